import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { cardActionEvent, messageEvent } from '../helpers/events.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { sampleCampaign, seedCampaign } from '../helpers/roster.js';
import { ROOT } from '../helpers/spawn.js';
import { tempDir, TEST_ENCRYPT_KEY } from '../helpers/test-runtime.js';
import type { LoadPlan, LoadResults } from './load-generator.js';
import { BOT_OPEN_ID, recordResults, rng, SEED, sleep, startService, stopService, waitUntil, type AttackResult, type Service } from './lib.js';

/**
 * Attack 3 (issue 8): 500 events/s of mixed traffic for 60 s from a second
 * process (tests/faults/load-generator.ts) against the real service on
 * loopback: policy questions (p2p and @bot in groups), chat check-ins of
 * seeded cadres, 帮助, check-in forms submitted from cards, exact redeliveries
 * (same event_id) and the same message under a new event_id.
 *
 * Judged: every request answered 200 within 1 s; every original event handled
 * exactly once (handler runs counted by the service's own metrics, questions
 * logged once, check-ins recorded once, one reply each in the outbox) and no
 * duplicate handled at all; the service's RSS flat (see FLAT below).
 *
 * Replies leave through the outbox at Lark's limits (50/s, 1000/min per app),
 * which the fake does not enforce but the service does: 25,000 replies would
 * take 25 minutes to send. The test judges the outbox rows (what will be sent,
 * each under its uuid), and checks that what did reach the fake during the run
 * was sent once each.
 *
 *   FAULT_LOAD_RATE=500 FAULT_LOAD_SECONDS=60   the defaults
 *   FAULT_LOAD_DEBUG=1                          worst ack per second and per 50 ms, drain progress
 *   FAULT_LOAD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"   flags for the service process (profiling)
 *   FAULT_LOAD_KEEP=1                           keep the data dir (database, plan, per-request results)
 */
const RATE = Number(process.env.FAULT_LOAD_RATE ?? 500);
const SECONDS = Number(process.env.FAULT_LOAD_SECONDS ?? 60);
const ACK_LIMIT_MS = 1000;
/** After the load: let the backlog drain, then settle this long before the "after" sample; then idle longer. */
const SETTLE_MS = 5000;
const IDLE_MS = 20_000;
/**
 * "Flat" memory. A leak grows with the number of events handled, so it shows
 * as RSS that keeps rising while the load lasts and stays up after it. RSS
 * itself is a sawtooth (V8 grows the heap, collects, grows again; SQLite
 * fills its page cache), so single samples say little; judged:
 *  - the troughs (least RSS) of the last third of the load no more than
 *    FLAT.troughGrowthMb above those of the middle third: ~7,000 events
 *    handled in between, so a leak of 5 KB per event would show;
 *  - RSS after the backlog drained and 20 s idle not above the peak during
 *    the load (×FLAT.idleOverPeak, for the page-granular noise of a quiet
 *    process whose sender is still working through the outbox);
 *  - and not more than FLAT.overBeforeMb above RSS before the load (the warm
 *    heap, JIT code, a SQLite cache over a 30,000-event database).
 */
const FLAT = { troughGrowthMb: 35, idleOverPeak: 1.05, overBeforeMb: 100 };

const results: AttackResult[] = [];
afterAll(() => recordResults(inject('faultResultsDir'), 'load', results));

const QUESTIONS = [
  '选民名单要提前多少天公布？',
  '对选民名单有异议怎么办？',
  '村委会每届任期几年？',
  '候选人需要什么条件？',
  '哪些人不宜确定为候选人？',
  '选举委员会成员被提名为候选人怎么办？',
  '户籍不在本村的人能不能登记参加选举？',
  '选举有效需要多少人投票？',
  '候选人得多少票才能当选？',
  '另行选举时怎样算当选？',
  '外出的选民能委托别人投票吗？',
  '贿选当选的怎么处理？',
  '村委会成员出缺怎么补选？',
  '多少村民联名可以提出罢免？',
  '新一届村委会产生后多久完成工作移交？',
  '什么是一肩挑？',
  '为什么要先审计后换届？',
  '联审由哪些部门参加？',
  '换届前要和哪些人谈话？',
  '风险台账怎么建？',
  '村委会被判刑的成员职务怎么办？',
  '居委会任期多长？',
  '选举委员会怎么产生？',
  '村里明天停水吗？', // nothing in the library: an abstention
];

type Kind = 'question' | 'group-question' | 'checkin' | 'help' | 'card' | 'dup-event' | 'dup-message';

interface Planned {
  kind: Kind;
  payload: Record<string, unknown>;
  eventId: string;
  messageId?: string;
  /** Index of the original, for the two kinds of duplicate. */
  of?: number;
}

interface Village {
  id: number;
  name: string;
  township: string;
  /** For ASCII chat ids (Lark's ids are printable ASCII; others are not answered). */
  townshipNo: number;
  cadre: string;
}

function buildPlan(n: number, villages: Village[], random: () => number): Planned[] {
  const plan: Planned[] = [];
  const originals: number[] = [];
  const messageOriginals: number[] = [];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  /** An earlier original: mostly from the last few seconds, sometimes the one just before (same group commit). */
  const earlier = (from: number[]): number | undefined => {
    if (!from.length) return undefined;
    const back = random() < 0.3 ? Math.floor(random() * 3) : Math.floor(random() * Math.min(from.length, RATE * 4));
    return from[from.length - 1 - Math.min(back, from.length - 1)];
  };
  for (let i = 0; i < n; i++) {
    const x = random();
    const tag = `${SEED}_${i}`;
    const eventId = `ev_load_${tag}`;
    const messageId = `om_load_${tag}`;
    if (x >= 0.72 && originals.length > 0) {
      if (x < 0.87) {
        const of = earlier(originals)!;
        const o = plan[of]!;
        plan.push({ kind: 'dup-event', payload: o.payload, eventId: o.eventId, messageId: o.messageId, of });
        continue;
      }
      const of = earlier(messageOriginals);
      if (of !== undefined) {
        const o = plan[of]!;
        const copy = structuredClone(o.payload) as { header: Record<string, unknown> };
        copy.header.event_id = `ev_load_redo_${tag}`;
        plan.push({ kind: 'dup-message', payload: copy, eventId: `ev_load_redo_${tag}`, messageId: o.messageId, of });
        continue;
      }
    }
    const v = pick(villages);
    let p: Planned;
    if (x < 0.3) {
      const asker = random() < 0.5 ? v.cadre : `ou_visitor_${Math.floor(random() * 300)}`;
      const ev = messageEvent({ text: pick(QUESTIONS), eventId, messageId, openId: asker, chatId: `oc_p2p_${asker}` });
      p = { kind: 'question', payload: ev, eventId, messageId };
    } else if (x < 0.36) {
      const ev = messageEvent({ text: pick(QUESTIONS), chat: 'group', mentionBot: BOT_OPEN_ID, eventId, messageId, openId: v.cadre, chatId: `oc_group_t${v.townshipNo}` });
      p = { kind: 'group-question', payload: ev, eventId, messageId };
    } else if (x < 0.54) {
      // A unique note makes every check-in a real change (the same status twice is refused as 无需重复登记).
      const text = random() < 0.5 ? `进度 ${v.name} 审计 进行中 负载${tag}` : `完成 ${v.name} 摸底研判 负载${tag}`;
      const ev = messageEvent({ text, eventId, messageId, openId: v.cadre, chatId: `oc_p2p_${v.cadre}` });
      p = { kind: 'checkin', payload: ev, eventId, messageId };
    } else if (x < 0.58) {
      const ev = messageEvent({ text: '帮助', eventId, messageId, openId: v.cadre, chatId: `oc_p2p_${v.cadre}` });
      p = { kind: 'help', payload: ev, eventId, messageId };
    } else {
      const ev = cardActionEvent({
        value: { action: 'checkin_submit' },
        formValue: { village: String(v.id), stage: 'election_committee', status: '进行中', note: `表单负载${tag}` },
        openId: v.cadre,
        eventId,
      });
      p = { kind: 'card', payload: ev, eventId };
    }
    originals.push(i);
    if (p.messageId) messageOriginals.push(i);
    plan.push(p);
  }
  return plan;
}

function readRssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error('no VmRSS');
  return Number(m[1]) / 1024;
}

function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (Object.entries(labels).some(([k, v]) => !line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const median = (xs: number[]) => pct([...xs].sort((a, b) => a - b), 50);
const mb = (x: number) => `${Math.round(x)} MB`;

function runGenerator(planFile: string, outFile: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/faults/load-generator.ts', planFile, outFile], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('fault: load', () => {
  it(`${RATE} mixed events/s for ${SECONDS} s from a second process: acks < 1 s, each event handled once, memory flat`, async () => {
    const started = Date.now();
    const attack = `load: ${RATE} mixed events/s × ${SECONDS} s`;
    const fake = await FakeLark.start({ botOpenId: BOT_OPEN_ID });
    const dir = tempDir('hj-fault-load-');
    const dbFile = join(dir, 'huanjie.db');
    let svc: Service | undefined;
    try {
      // The roster, imported before the service starts: 4 townships × 25 villages, one cadre each.
      const campaign = sampleCampaign({ townships: 4, villagesPerTownship: 25, talks: false });
      const db = openDb(dbFile);
      seedCampaign(db, campaign);
      const villages = (
        db
          .prepare(
            `SELECT v.id, v.name, t.name AS township, p.open_id AS cadre FROM wf_regions v JOIN wf_regions t ON t.id = v.parent_id
             JOIN wf_assignments a ON a.village_id = v.id JOIN wf_people p ON p.id = a.person_id AND p.role = '干部'
             WHERE v.kind = 'village' ORDER BY v.id`,
          )
          .all() as Omit<Village, 'townshipNo'>[]
      ).map((v) => ({ ...v, townshipNo: campaign.townships.indexOf(v.township) }));
      db.close();
      expect(villages).toHaveLength(100);

      const n = Math.round(RATE * SECONDS);
      const plan = buildPlan(n, villages, rng(SEED + 3));
      const count = (k: Kind) => plan.filter((p) => p.kind === k).length;
      const originals = plan.filter((p) => !p.kind.startsWith('dup'));
      const dups = n - originals.length;

      // The real service; it indexes its bundled 换届工作指引 at start (KNOWLEDGE_DIR itself is empty here).
      const nodeArgs = process.env.FAULT_LOAD_NODE_ARGS?.split(/\s+/).filter(Boolean);
      svc = await startService({ dataDir: dir, fake, nodeArgs });
      const pid = svc.child.pid!;
      const metrics = async () => (await fetch(svc!.base + '/metrics')).text();
      await sleep(1000);
      const rssBefore = readRssMb(pid);
      const heapBefore = metricSum(await metrics(), 'nodejs_heap_size_used_bytes') / 1048576;

      const planFile = join(dir, 'load-plan.json');
      const outFile = join(dir, 'load-results.json');
      const loadPlan: LoadPlan = {
        url: `${svc.base}/lark/events`,
        rate: RATE,
        encryptKey: TEST_ENCRYPT_KEY,
        requests: plan.map((p, i) => ({ payload: JSON.stringify(p.payload), encrypt: i % 4 !== 0, keepBody: p.kind === 'card' || (p.kind === 'dup-event' && plan[p.of!]!.kind === 'card') })),
      };
      writeFileSync(planFile, JSON.stringify(loadPlan));

      // RSS of the service every second while the generator runs.
      const during: number[] = [];
      const sampler = setInterval(() => {
        try {
          during.push(readRssMb(pid));
        } catch {
          /* exited: judged below */
        }
      }, 1000);
      const gen = await runGenerator(planFile, outFile).finally(() => clearInterval(sampler));
      expect(gen.code, `load generator failed:\n${gen.stderr}`).toBe(0);
      const res = JSON.parse(readFileSync(outFile, 'utf8')) as LoadResults;
      if (process.env.FAULT_LOAD_DEBUG) {
        process.stdout.write(`[load] generator: ${gen.stdout}`);
        const slowest: string[] = [];
        for (let s = 0; s * RATE < n; s++) {
          const xs = res.latencyMs.slice(s * RATE, (s + 1) * RATE);
          const worst = xs.indexOf(Math.max(...xs));
          slowest.push(`${s}s:${Math.round(xs[worst]!)}@${(((s * RATE + worst) % RATE) / RATE * 1000).toFixed(0)}`);
        }
        process.stdout.write(`[load] worst ack per second (ms@offset): ${slowest.join(' ')}\n`);
        const first: string[] = [];
        for (let k = 0; k < Math.min(n, RATE * 3); k += RATE / 20) first.push(String(Math.round(Math.max(...res.latencyMs.slice(k, k + RATE / 20)))));
        process.stdout.write(`[load] worst ack per 50 ms, first 3 s: ${first.join(' ')}\n`);
        const slowKinds = new Map<string, number>();
        res.latencyMs.forEach((x, i) => x >= ACK_LIMIT_MS && slowKinds.set(plan[i]!.kind, (slowKinds.get(plan[i]!.kind) ?? 0) + 1));
        process.stdout.write(`[load] slow acks by kind: ${JSON.stringify(Object.fromEntries(slowKinds))}\n`);
      }

      // Drain: every event the service accepted has been handled (its own counts; the generator has stopped,
      // so nothing more arrives — requests it gave up on are judged below, not waited for).
      const drainStart = Date.now();
      let handled = 0;
      let shown = 0;
      const drained = waitUntil(
        async () => {
          const text = await metrics();
          handled = metricSum(text, 'huanjie_handler_duration_seconds_count');
          const accepted = metricSum(text, 'huanjie_events_received_total');
          if (process.env.FAULT_LOAD_DEBUG && Date.now() - shown > 5000 && (shown = Date.now())) process.stdout.write(`[load] handled ${handled}/${accepted} accepted (${originals.length} sent), rss ${readRssMb(pid).toFixed(0)}\n`);
          return handled >= accepted;
        },
        120_000,
        'every accepted event handled',
      );
      await drained.catch(async (e: unknown) => {
        const c = openDb(dbFile, { readonly: true });
        const st = c.prepare(`SELECT status, event_type, COUNT(*) AS n FROM received_events GROUP BY status, event_type`).all();
        const stuck = c.prepare(`SELECT event_id, event_type, received_at FROM received_events WHERE status = 'pending' LIMIT 5`).all();
        c.close();
        throw new Error(`${String(e)}: handled ${handled}; inbox ${JSON.stringify(st)}; pending e.g. ${JSON.stringify(stuck)}`);
      });
      const drainMs = Date.now() - drainStart;
      await sleep(SETTLE_MS);
      const rssAfter = readRssMb(pid);
      const m = await metrics();
      const heapAfter = metricSum(m, 'nodejs_heap_size_used_bytes') / 1048576;
      await sleep(IDLE_MS);
      const rssIdle = readRssMb(pid);
      const m2 = await metrics();
      expect((await fetch(svc.base + '/healthz')).status).toBe(200);

      // --- acknowledgements (measured by the generator)
      const lat = [...res.latencyMs].sort((a, b) => a - b);
      const late = [...res.lateMs].sort((a, b) => a - b);
      const non200 = res.status.map((s, i) => ({ s, i })).filter((x) => x.s !== 200);
      const slow = res.latencyMs.filter((x) => x >= ACK_LIMIT_MS).length;
      const achievedRate = (n / res.scheduleMs) * 1000;
      // A card callback's answer is its toast. Its redelivery (same event_id) may overtake it on another
      // connection; then the redelivery is the one handled and answered, the other gets {}.
      const deliveries = new Map<string, number[]>();
      plan.forEach((p, i) => {
        if (p.kind === 'card' || (p.kind === 'dup-event' && plan[p.of!]!.kind === 'card')) deliveries.set(p.eventId, [...(deliveries.get(p.eventId) ?? []), i]);
      });
      const cardNotRecorded = plan
        .map((p, i) => ({ p, i }))
        .filter((x) => x.p.kind === 'card')
        .filter((x) => deliveries.get(x.p.eventId)!.filter((k) => /已登记/.test(res.bodies[k] ?? '')).length !== 1);

      // --- the service's counters
      const handlerRuns = metricSum(m2, 'huanjie_handler_duration_seconds_count');
      const handlerErrors = metricSum(m2, 'huanjie_handler_duration_seconds_count', { outcome: 'error' });
      const received = metricSum(m2, 'huanjie_events_received_total');
      const duplicates = metricSum(m2, 'huanjie_events_duplicate_total');

      // --- the database
      const check = openDb(dbFile, { readonly: true });
      const inbox = check.prepare(`SELECT status, COUNT(*) AS n FROM received_events GROUP BY status`).all() as { status: string; n: number }[];
      const inboxIds = new Set((check.prepare(`SELECT event_id FROM received_events`).all() as { event_id: string }[]).map((r) => r.event_id));
      const questionsLogged = (check.prepare(`SELECT COUNT(*) AS n FROM kb_questions`).get() as { n: number }).n;
      const changes = new Map(
        (check.prepare(`SELECT source_id, COUNT(*) AS n FROM wf_changes GROUP BY source_id`).all() as { source_id: string; n: number }[]).map((r) => [r.source_id, r.n]),
      );
      const outboxRows = check.prepare(`SELECT uuid, intent, msg_type, content, status FROM outbox`).all() as { uuid: string; intent: string; msg_type: string; content: string; status: string }[];
      const integrity = check.pragma('integrity_check', { simple: true });
      check.close();
      const byIntent = new Map(outboxRows.map((r) => [r.intent, r]));

      // Each original: handled once, with exactly its one reply (intent fixed by the message or the card event).
      // A message and its redelivery under a new event_id race (different connections): whichever
      // arrives first is kept, so exactly one event of each message_id must be in the inbox.
      const eventsOfMessage = new Map<string, string[]>();
      for (const p of plan) if (p.messageId && p.kind !== 'dup-event') eventsOfMessage.set(p.messageId, [...(eventsOfMessage.get(p.messageId) ?? []), p.eventId]);
      const problems: string[] = [];
      for (const p of originals) {
        const kept = (p.messageId ? eventsOfMessage.get(p.messageId)! : [p.eventId]).filter((id) => inboxIds.has(id));
        if (kept.length !== 1) problems.push(`${p.messageId ?? p.eventId}: ${kept.length} events in the inbox`);
        if (p.kind === 'card') {
          if (changes.get(`card:${p.eventId}`) !== 1) problems.push(`${p.eventId}: card check-in recorded ${changes.get(`card:${p.eventId}`) ?? 0}×`);
          if (!byIntent.has(`checkin:${p.eventId}:0`) || byIntent.has(`checkin:${p.eventId}:1`)) problems.push(`${p.eventId}: card confirmation not exactly one`);
          continue;
        }
        const reply = byIntent.get(`reply:${p.messageId}:0`);
        if (!reply || byIntent.has(`reply:${p.messageId}:1`)) {
          problems.push(`${p.messageId}: ${reply ? 'more than one reply' : 'no reply'}`);
          continue;
        }
        if (p.kind === 'checkin') {
          if (changes.get(p.messageId!) !== 1) problems.push(`${p.messageId}: check-in recorded ${changes.get(p.messageId!) ?? 0}×`);
          if (!reply.content.includes('已登记')) problems.push(`${p.messageId}: check-in answered ${reply.content.slice(0, 120)}`);
        } else if (reply.msg_type !== 'interactive') problems.push(`${p.messageId}: ${p.kind} answered with ${reply.msg_type} ${reply.content.slice(0, 120)}`);
      }
      const expectedRows = originals.length;
      const sources = new Set(originals.map((p) => (p.kind === 'card' ? `card:${p.eventId}` : p.messageId!)));
      const strayChanges = [...changes.keys()].filter((x) => !sources.has(x));

      // What reached the fake during the run: once per uuid, and only outbox rows.
      const uuids = new Set(outboxRows.map((r) => r.uuid));
      const seen = new Map<string, number>();
      for (const s of fake.sent) seen.set(s.uuid ?? '', (seen.get(s.uuid ?? '') ?? 0) + 1);
      const sentTwice = [...seen].filter(([, k]) => k > 1).length;
      const strangers = fake.sent.filter((s) => !s.uuid || !uuids.has(s.uuid)).length;

      // --- memory
      // Troughs of the GC sawtooth (the least RSS in a stretch) follow live memory; peaks follow GC timing.
      const third = Math.max(1, Math.floor(during.length / 3));
      const midTrough = Math.min(...during.slice(third, 2 * third));
      const endTrough = Math.min(...during.slice(2 * third));
      const peak = Math.max(...during);
      const troughGrowth = endTrough - midTrough;

      const secs = ((Date.now() - started) / 1000).toFixed(1);
      const summary =
        `${n} requests (${count('question')} questions, ${count('group-question')} @bot in groups, ${count('checkin')} chat check-ins, ` +
        `${count('help')} 帮助, ${count('card')} card forms, ${count('dup-event')} same event_id, ${count('dup-message')} same message_id); ` +
        `achieved ${achievedRate.toFixed(0)}/s, generator lag p99 ${pct(late, 99).toFixed(1)} ms; ` +
        `ack p50 ${pct(lat, 50).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms, max ${lat.at(-1)!.toFixed(0)} ms, ${slow} ≥ 1 s, ${non200.length} not 200; ` +
        `handled ${handlerRuns} (expected ${originals.length}), duplicates dropped ${duplicates} (expected ${dups}), handler errors ${handlerErrors}; ` +
        `drained ${(drainMs / 1000).toFixed(1)} s after the last answer; outbox ${outboxRows.length} rows (expected ${expectedRows}), ${fake.sent.length} delivered during the run, ${sentTwice} twice; ` +
        `RSS before ${mb(rssBefore)}, during median ${mb(median(during))} / peak ${mb(peak)} (trough of the middle third ${mb(midTrough)}, of the last third ${mb(endTrough)}), ` +
        `after ${mb(rssAfter)}, after ${IDLE_MS / 1000} s idle ${mb(rssIdle)}; heap used before ${mb(heapBefore)}, after ${mb(heapAfter)}; ` +
        `generator RSS ${res.generatorRssMb} MB; integrity ${String(integrity)}; ${secs} s`;
      process.stdout.write(`\n[load] ${summary}\n[load] RSS during (MB): ${during.map((x) => Math.round(x)).join(' ')}\n`);
      if (problems.length) process.stdout.write(`[load] ${problems.length} problems, e.g. ${problems.slice(0, 5).join(' | ')}\n`);

      const failures =
        non200.length + slow + problems.length + strayChanges.length + sentTwice + strangers +
        Math.abs(handlerRuns - originals.length) + Math.abs(received - originals.length) + Math.abs(duplicates - dups) + handlerErrors +
        Math.abs(questionsLogged - count('question') - count('group-question')) + Math.abs(outboxRows.length - expectedRows) + cardNotRecorded.length +
        (troughGrowth > FLAT.troughGrowthMb ? 1 : 0) + (rssIdle > peak * FLAT.idleOverPeak ? 1 : 0) + (rssIdle > rssBefore + FLAT.overBeforeMb ? 1 : 0) +
        (integrity === 'ok' ? 0 : 1) + (achievedRate < RATE * 0.95 ? 1 : 0);
      results.push({ attack, tries: n, failures, notes: summary });

      expect(achievedRate, 'the generator could not keep the rate (the test would not be testing it)').toBeGreaterThan(RATE * 0.95);
      expect(non200.slice(0, 5).map((x) => `#${x.i} ${plan[x.i]!.kind}: ${x.s} ${res.errors[x.i] ?? ''}`), 'requests not answered 200').toEqual([]);
      expect(slow, `acknowledgements ≥ ${ACK_LIMIT_MS} ms (p99 ${pct(lat, 99).toFixed(1)} ms, max ${lat.at(-1)!.toFixed(0)} ms)`).toBe(0);
      expect(
        cardNotRecorded.slice(0, 5).map((x) => `#${x.i}: ${deliveries.get(x.p.eventId)!.map((k) => res.bodies[k]).join(' / ')}`),
        'card forms not answered 已登记 exactly once',
      ).toEqual([]);
      expect(problems.slice(0, 10), `${problems.length} events not handled exactly once`).toEqual([]);
      expect(handlerRuns, 'handler runs (no event handled twice, no duplicate handled)').toBe(originals.length);
      expect(handlerErrors).toBe(0);
      expect(received).toBe(originals.length);
      expect(duplicates).toBe(dups);
      expect(questionsLogged, 'questions logged once each').toBe(count('question') + count('group-question'));
      expect(strayChanges).toEqual([]);
      expect(outboxRows.length).toBe(expectedRows);
      expect(inbox).toEqual([{ status: 'done', n: originals.length }]);
      expect(sentTwice, 'messages delivered twice').toBe(0);
      expect(strangers).toBe(0);
      expect(integrity).toBe('ok');
      expect(troughGrowth, `RSS troughs rose ${troughGrowth.toFixed(0)} MB from the middle to the last third of the load`).toBeLessThanOrEqual(FLAT.troughGrowthMb);
      expect(rssIdle, 'RSS after the drain and idle above the peak during the load').toBeLessThanOrEqual(peak * FLAT.idleOverPeak);
      expect(rssIdle - rssBefore, 'RSS after the drain and idle − before').toBeLessThanOrEqual(FLAT.overBeforeMb);

      const stop = await stopService(svc);
      svc = undefined;
      expect(stop.code).toBe(0);
    } catch (e) {
      if (svc) process.stderr.write(`service output:\n${svc.output().slice(-5000)}\n`);
      if (!results.length) results.push({ attack, tries: Math.round(RATE * SECONDS), failures: 1, notes: String(e).slice(0, 300) });
      throw e;
    } finally {
      if (svc) {
        // Gracefully when it can (a --cpu-prof profile is written at a clean exit), else kill.
        const s = svc;
        const t = setTimeout(() => s.child.kill('SIGKILL'), 25_000);
        await stopService(s);
        clearTimeout(t);
      }
      await fake.close();
      if (!process.env.FAULT_LOAD_KEEP) rmSync(dir, { recursive: true, force: true });
      else process.stdout.write(`[load] kept ${dir}\n`);
    }
  });
});
