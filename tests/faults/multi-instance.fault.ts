import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { generateProvince } from '../../bench/province-data.js';
import { systemClock } from '../../src/clock.js';
import { openStore } from '../../src/store/db.js';
import { createScheduleRepo } from '../../src/store/schedule-repo.js';
import { createWorkflowRepos } from '../../src/store/workflow-repos.js';
import { todayIn } from '../../src/workflow/dates.js';
import { computeReminders } from '../../src/workflow/reminders/planner.js';
import { messageEvent } from '../helpers/events.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { larkRequest } from '../helpers/lark-sign.js';
import { pgUnreachable, TEST_PG_URL } from '../helpers/store.js';
import { TEST_ENCRYPT_KEY, TEST_VERIFICATION_TOKEN, tempDir } from '../helpers/test-runtime.js';
import { recordResults, rng, SEED, sleep, startService, stopService, waitUntil, type AttackResult, type Service } from './lib.js';

/**
 * Issue 7: three service processes on one PostgreSQL schema and one fake Lark.
 *  1. A reminder slot (about 2,000 people with due items) comes due while all three run: one instance
 *     plans it (scheduler lock); it is killed -9 half-way through planning (or, if planning was too quick
 *     to catch, while sending), restarted; every person gets exactly one reminder, every leader one digest.
 *  2. 1,000 message events spread at random over the instances, 200 of them delivered a second time to a
 *     different instance; one instance is killed -9 half-way and not restarted (what Lark sent it unanswered
 *     is delivered again elsewhere, as Lark retries): exactly one reply per message.
 */
const EVENTS = Number(process.env.FAULT_MI_EVENTS ?? 1000);
const DUPES = Number(process.env.FAULT_MI_DUPES ?? 200);
const VILLAGES = Number(process.env.FAULT_MI_VILLAGES ?? 1500);
const PEOPLE = Number(process.env.FAULT_MI_PEOPLE ?? 2260);
const TZ = 'Asia/Shanghai';
const results: AttackResult[] = [];
afterAll(() => recordResults(inject('faultResultsDir'), 'multi-instance', results));

const reachable = (await pgUnreachable(TEST_PG_URL)) === null;
if (!reachable) {
  if (process.env.CI === 'true') throw new Error(`multi-instance fault test: PostgreSQL unreachable at ${TEST_PG_URL} (required in CI)`);
  process.stderr.write(`\nmulti-instance fault test SKIPPED: PostgreSQL unreachable at ${TEST_PG_URL} (docs/postgres.md; set HJ_TEST_PG_URL)\n`);
}

/** HH:MM in the campaign zone of the first minute boundary at least `ms` from now. */
function hhmmAfter(ms: number): { hhmm: string; at: number } {
  const at = Math.ceil((Date.now() + ms) / 60_000) * 60_000;
  const hhmm = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(at));
  return { hhmm, at };
}

describe.skipIf(!reachable)('fault: three instances on one PostgreSQL', () => {
  it(`reminder slot + ${EVENTS} events (${DUPES} twice) over 3 instances, kill -9 in each phase: all once`, async () => {
    const started = Date.now();
    const random = rng(SEED);
    const schema = `hj_mi_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    const fake = await FakeLark.start();
    const dirs = [0, 1, 2].map(() => tempDir('hj-fault-mi-'));
    const svcs: (Service | undefined)[] = [undefined, undefined, undefined];
    const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await admin.query(sql, params)).rows as T[];
    try {
      // The campaign, seeded straight into the schema (as an import would), and what its slot should send.
      const today = todayIn(TZ, Date.now());
      const seed = openStore({ dbFile: '', databaseUrl: TEST_PG_URL, databaseSchema: schema });
      const gen = generateProvince(seed, { villages: VILLAGES, people: PEOPLE, talks: VILLAGES, seed: SEED, villagesPerCounty: 500, townshipsPerCounty: 10, today });
      const expected = computeReminders({ repos: createWorkflowRepos(seed), tz: TZ, clock: systemClock }, createScheduleRepo(seed), today);
      seed.close();
      const expectedTo = new Set(expected.map((m) => `${m.kind}:${m.to.openId}`));
      const items = expected.reduce((s, m) => s + m.items.length, 0);
      expect(expectedTo.size).toBe(expected.length);

      // The slot: a minute boundary after all three are surely up.
      const slot = hhmmAfter(75_000);
      const env = (k: number): Record<string, string> => ({
        DATABASE_URL: `${TEST_PG_URL}${TEST_PG_URL.includes('?') ? '&' : '?'}application_name=mi${k}`,
        DATABASE_SCHEMA: schema,
        TZ_NAME: TZ,
        REMINDER_TIME: slot.hhmm,
        DIGEST_TIME: slot.hhmm,
        QUIET_HOURS: '',
      });
      const start = async (k: number) => {
        mkdirSync(join(dirs[k]!, 'knowledge'), { recursive: true });
        svcs[k] = await startService({ dataDir: dirs[k]!, fake, env: env(k) });
      };
      // The first one migrates and indexes the policy pack; the other two find it done.
      await start(0);
      await Promise.all([start(1), start(2)]);
      const allUpBeforeSlot = Date.now() < slot.at;

      // Phase 1: the slot. Kill the instance planning it between two of its write batches.
      const lockHolder = async (): Promise<number | null> => {
        const r = await q<{ app: string }>(
          `SELECT a.application_name AS app FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
              AND l.objid::bigint = (hashtext($1)::bigint & 4294967295)`,
          [`huanjie-scheduler:${schema}`],
        );
        return r.length ? Number(r[0]!.app.replace('mi', '')) : null;
      };
      const planned = async () =>
        Number((await q<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".outbox WHERE intent LIKE 'reminder:%' OR intent LIKE 'escalation:%'`))[0]!.n);
      await waitUntil(() => Date.now() >= slot.at, 150_000, 'the slot time');
      let killNote = '';
      let victim = -1;
      await waitUntil(
        async () => {
          const n = await planned();
          if (n === 0) return false;
          const holder = await lockHolder();
          if (n < expected.length && holder !== null) {
            victim = holder;
            svcs[holder]!.child.kill('SIGKILL');
            killNote = `planner mi${holder} killed after ${n}/${expected.length} reminders written`;
          }
          return true;
        },
        120_000,
        'the slot to be planned',
      );
      if (victim < 0) {
        // Planned before it could be caught: kill one while the reminders are being sent instead.
        await waitUntil(() => fake.sent.length >= expected.length / 4, 300_000, 'a quarter of the reminders sent');
        victim = Math.floor(random() * 3);
        svcs[victim]!.child.kill('SIGKILL');
        killNote = `planning done before it could be caught (${await planned()} written); mi${victim} killed while sending, after ${fake.sent.length} sent`;
      }
      await svcs[victim]!.exited;
      // The others finish the slot at their next minute tick; the victim comes back for phase 2.
      await start(victim);
      await waitUntil(async () => (await planned()) >= expected.length, 150_000, 'every reminder planned');

      // Phase 2: the events. Each goes to a random live instance; a delivery that gets no 200 goes again
      // (Lark retries) to another; DUPES of them are also delivered a second time to a different instance.
      const events = Array.from({ length: EVENTS }, (_, i) =>
        messageEvent({ text: `选民名单什么时候公布？（第${i}问）`, openId: `ou_mi_asker_${i % 97}`, chatId: `oc_mi_chat_${i % 97}`, token: TEST_VERIFICATION_TOKEN }),
      );
      const msgIds = events.map((e) => String((e.event as { message: { message_id: string } }).message.message_id));
      const twice = new Set<number>();
      while (twice.size < Math.min(DUPES, EVENTS)) twice.add(Math.floor(random() * EVENTS));
      const live = () => [0, 1, 2].filter((k) => svcs[k] && svcs[k]!.child.exitCode === null && svcs[k]!.child.signalCode === null);
      const tally = { deliveries: 0, ok: 0, failedDeliveries: 0, secondTo: 0 };
      const deliver = async (ev: unknown, avoid: number): Promise<number> => {
        for (let attempt = 0; ; attempt++) {
          const choices = live().filter((k) => k !== avoid);
          const k = choices[Math.floor(random() * choices.length)] ?? live()[0]!;
          const r = larkRequest(ev, { encryptKey: TEST_ENCRYPT_KEY, encrypt: random() < 0.5 });
          tally.deliveries++;
          try {
            const res = await fetch(svcs[k]!.base + '/lark/events', { method: 'POST', body: r.body, headers: r.headers, signal: AbortSignal.timeout(10_000) });
            await res.text();
            if (res.status === 200) {
              tally.ok++;
              return k;
            }
          } catch {
            /* the instance died under the request */
          }
          tally.failedDeliveries++;
          if (attempt > 20) throw new Error('event not accepted after 20 deliveries');
          await sleep(100);
        }
      };
      const killAt = Math.floor(EVENTS * (0.3 + 0.4 * random()));
      let killed2 = -1;
      let next = 0;
      const worker = async () => {
        for (;;) {
          const i = next++;
          if (i >= EVENTS) return;
          if (i === killAt) {
            killed2 = live()[Math.floor(random() * live().length)]!;
            svcs[killed2]!.child.kill('SIGKILL');
          }
          const first = await deliver(events[i], -1);
          if (twice.has(i)) {
            // The same event again (Lark's retry: same event_id), to an instance other than the first.
            const again = live().filter((k) => k !== first);
            if (again.length) tally.secondTo++;
            await deliver(events[i], first);
          }
        }
      };
      await Promise.all(Array.from({ length: 12 }, worker));
      if (killed2 >= 0) await svcs[killed2]!.exited;

      // Everything delivered: every reply, every reminder, every digest.
      await waitUntil(
        async () => {
          const r = await q<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".outbox WHERE status <> 'sent'`);
          return Number(r[0]!.n) === 0 && (await q(`SELECT 1 FROM "${schema}".received_events WHERE status = 'pending' LIMIT 1`)).length === 0;
        },
        600_000,
        'every outbox row sent and every event handled',
      );
      await sleep(1500);
      const digestsExpected = Number((await q<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".digest_deliveries WHERE status = 'queued'`))[0]!.n);
      const slotRows = await q<{ job: string; messages: string }>(`SELECT job, messages FROM "${schema}".sched_slots ORDER BY job`);
      const stops = await Promise.all(live().map((k) => stopService(svcs[k]!)));

      // At the fake: by uuid, by reply target, by reminder receiver.
      const outbox = await q<{ uuid: string; intent: string; receive_id: string; status: string }>(`SELECT uuid, intent, receive_id, status FROM "${schema}".outbox`);
      const intentOf = new Map(outbox.map((o) => [o.uuid, o.intent]));
      const byUuid = new Map<string, number>();
      for (const m of fake.sent) byUuid.set(m.uuid ?? '', (byUuid.get(m.uuid ?? '') ?? 0) + 1);
      const dupUuids = [...byUuid].filter(([, n]) => n > 1).length;
      const strangers = fake.sent.filter((m) => !intentOf.has(m.uuid ?? '')).length;
      const repliesTo = new Map<string, number>();
      for (const m of fake.sent) if (m.reply_to) repliesTo.set(m.reply_to, (repliesTo.get(m.reply_to) ?? 0) + 1);
      const replyMissing = msgIds.filter((id) => !repliesTo.has(id)).length;
      const replyDoubled = msgIds.filter((id) => (repliesTo.get(id) ?? 0) > 1).length;
      const reminderAt = new Map<string, number>();
      const digestAt = new Map<string, number>();
      for (const m of fake.sent) {
        const intent = intentOf.get(m.uuid ?? '') ?? '';
        const [kind] = intent.split(':');
        if (kind === 'reminder' || kind === 'escalation') {
          const key = `${kind}:${m.receive_id}`;
          reminderAt.set(key, (reminderAt.get(key) ?? 0) + 1);
        }
        if (kind === 'digest') digestAt.set(m.receive_id ?? '', (digestAt.get(m.receive_id ?? '') ?? 0) + 1);
      }
      const remMissing = [...expectedTo].filter((k) => !reminderAt.has(k)).length;
      const remDoubled = [...reminderAt.values()].filter((n) => n > 1).length;
      const remStrange = [...reminderAt.keys()].filter((k) => !expectedTo.has(k)).length;
      const digestDoubled = [...digestAt.values()].filter((n) => n > 1).length;
      const inbox = await q<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM "${schema}".received_events GROUP BY status`);
      const accepted = inbox.reduce((s, r) => s + Number(r.n), 0);
      const duplicatesRefused = tally.ok - accepted;

      const failures = dupUuids + strangers + replyMissing + replyDoubled + remMissing + remDoubled + remStrange + digestDoubled +
        (digestAt.size === digestsExpected ? 0 : 1) + (accepted === EVENTS ? 0 : 1) + stops.filter((s) => s.code !== 0).length;
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      results.push({
        attack: 'three instances on one PostgreSQL (kill -9 per phase)',
        tries: EVENTS + expected.length,
        failures,
        notes:
          `slot ${slot.hhmm} (all up before it: ${allUpBeforeSlot}): ${expected.length} people / ${items} items → ` +
          `${reminderAt.size} reminded, ${remDoubled} twice, ${remMissing} missing; ${killNote}; slots ${slotRows.map((s) => `${s.job}=${s.messages}`).join(', ')}; ` +
          `digests ${digestAt.size} to ${digestAt.size} leaders (${digestDoubled} twice); ` +
          `events ${EVENTS} (${DUPES} delivered twice, ${tally.secondTo} to another instance): ${tally.deliveries} deliveries, ${tally.ok} answered 200, ` +
          `${tally.failedDeliveries} failed (killed instance) and redelivered; ${accepted} accepted, ${duplicatesRefused} duplicates refused; ` +
          `mi${killed2} killed after ${killAt} events, not restarted; replies ${repliesTo.size}/${EVENTS}, ${replyDoubled} doubled; ` +
          `${fake.sent.length} messages at the fake, ${dupUuids} uuid twice, ${strangers} unknown; ${secs} s`,
      });
      process.stdout.write(`multi-instance: ${results.at(-1)!.notes}\n`);

      expect(dupUuids, 'a uuid delivered twice').toBe(0);
      expect(strangers, 'messages not in the outbox').toBe(0);
      expect(replyMissing, 'messages without a reply').toBe(0);
      expect(replyDoubled, 'messages answered twice').toBe(0);
      expect(remMissing, 'people without their reminder').toBe(0);
      expect(remDoubled, 'people reminded twice').toBe(0);
      expect(remStrange).toBe(0);
      expect(digestDoubled, 'leaders with two digests').toBe(0);
      expect(digestAt.size).toBe(digestsExpected);
      expect(digestsExpected).toBeGreaterThan(0);
      expect(accepted).toBe(EVENTS);
      expect(inbox.map((r) => r.status)).toEqual(['done']);
      expect(outbox.every((o) => o.status === 'sent')).toBe(true);
      expect(stops.every((s) => s.code === 0)).toBe(true);
      expect(allUpBeforeSlot, 'all three instances up before the slot').toBe(true);
      expect(gen.people).toBe(PEOPLE);
    } catch (e) {
      for (const s of svcs) if (s) process.stderr.write(`service output:\n${s.output().slice(-3000)}\n`);
      if (!results.length) results.push({ attack: 'three instances on one PostgreSQL (kill -9 per phase)', tries: EVENTS, failures: 1, notes: String(e).slice(0, 200) });
      throw e;
    } finally {
      for (const s of svcs) if (s) await stopService(s, 'SIGKILL');
      await fake.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });
});
