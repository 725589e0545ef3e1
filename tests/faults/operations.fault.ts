import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, openSync, rmSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { createWorkflowRepos } from '../../src/store/workflow-repos.js';
import type { Village } from '../../src/workflow/types.js';
import { stagesFor } from '../../src/workflow/stage-templates.js';
import { cardActionEvent, messageEvent } from '../helpers/events.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { sampleCampaign, seedCampaign, type Campaign } from '../helpers/roster.js';
import { tempDir } from '../helpers/test-runtime.js';
import { inspectDb, postEvent, sentText, startCli, type PostResult } from './crash-kit.js';
import { recordResults, rng, SEED, sleep, startService, stopService, waitUntil, type AttackResult, type Service } from './lib.js';

/**
 * Attacks (issue 8, operations):
 *  - `cli db backup` while the service takes a stream of check-ins: the copy is
 *    intact and self-consistent, and a service started on it serves its data;
 *  - a full disk (a size-limited tmpfs as DATA_DIR; where mounting is not
 *    allowed, the store layer's injected "disk full", HJ_FAULT_DISK_FULL_FILE):
 *    new work is refused with a clear message (webhook 503 so Lark redelivers; a
 *    card gets a toast), nothing accepted is lost, the process neither dies nor
 *    corrupts the database, and once space returns every event is handled once.
 */
const results: AttackResult[] = [];
afterAll(() => recordResults(inject('faultResultsDir'), 'operations', results));

/** Check-in events, each a different (village, stage) so none refuses another; note F<i> identifies it everywhere. */
class Checkins {
  private readonly pairs: { v: Village; stage: { key: string; name: string } }[];
  private next = 0;
  constructor(
    readonly campaign: Campaign,
    villages: Village[],
    private readonly random: () => number,
    private readonly tag: string,
  ) {
    const stages = stagesFor('村');
    this.pairs = villages.flatMap((v) => stages.map((s) => ({ v, stage: s }))).sort(() => random() - 0.5);
  }
  get left(): number {
    return this.pairs.length - this.next;
  }
  cadreOf(v: Village): string {
    return this.campaign.people.find((p) => p.role === '干部' && p.villages.includes(v.name) && p.township === v.township)!.openId;
  }
  /** A chat command or (cardShare of the time) a card-form submission. */
  make(cardShare = 0): { i: number; kind: 'chat' | 'card'; payload: unknown; sourceId: string; messageId?: string; v: Village; stageKey: string } {
    const i = this.next++;
    const { v, stage } = this.pairs[i]!;
    const cadre = this.cadreOf(v);
    const note = `F${i}`;
    if (this.random() < cardShare) {
      const eventId = `ev_${this.tag}_card_${i}`;
      const payload = cardActionEvent({ value: { action: 'checkin_submit' }, formValue: { village: String(v.id), stage: stage.key, status: '受阻', note }, openId: cadre, eventId });
      return { i, kind: 'card', payload, sourceId: `card:${eventId}`, v, stageKey: stage.key };
    }
    const messageId = `om_${this.tag}_${i}`;
    const payload = messageEvent({ text: `进度 ${v.name} ${stage.name} 受阻 ${note}`, openId: cadre, messageId, eventId: `ev_${this.tag}_${i}`, chatId: `oc_${this.tag}_${cadre}` });
    return { i, kind: 'chat', payload, sourceId: messageId, messageId, v, stageKey: stage.key };
  }
}

const noteOf = (text: string) => /备注：F(\d+)。/.exec(text)?.[1];

function seed(dir: string, villagesPerTownship: number): { campaign: Campaign; villages: Village[] } {
  const campaign = sampleCampaign({ townships: ['沁河镇'], villagesPerTownship, communityEvery: 0, talks: false });
  const db = openDb(join(dir, 'huanjie.db'));
  seedCampaign(db, campaign);
  const villages = createWorkflowRepos(db).roster.villages();
  db.close();
  return { campaign, villages };
}

describe('fault: operations', () => {
  it('db backup during a stream of check-ins: an intact, consistent copy that a new service serves', async () => {
    const started = Date.now();
    const random = rng(SEED + 40);
    const fake = await FakeLark.start();
    const fake2 = await FakeLark.start();
    const dir = tempDir('hj-fault-backup-');
    const dir2 = tempDir('hj-fault-restore-');
    const copy = join(dir, 'backup-copy.db');
    const { campaign, villages } = seed(dir, 80);
    const gen = new Checkins(campaign, villages, random, `bk${SEED}`);
    const problems: string[] = [];
    let svc: Service | undefined;
    let svc2: Service | undefined;
    try {
      svc = await startService({ dataDir: dir, fake, env: { SEND_RATE_PER_APP: '400' } });
      const s = svc;
      const acked: ReturnType<Checkins['make']>[] = [];
      let stopStream = false;
      let refused = 0;
      // Two senders in a loop until told to stop.
      const stream = Promise.all(
        Array.from({ length: 2 }, async () => {
          while (!stopStream && gen.left > 0) {
            const c = gen.make(0.25);
            const r = await postEvent(s.base, c.payload);
            if (r.status === 200) acked.push(c);
            else refused++;
          }
        }),
      );
      await waitUntil(() => acked.length >= 60, 60_000, '60 check-ins before the backup');
      const confirmedBefore = new Set(fake.sent.map((m) => noteOf(sentText(m))).filter(Boolean)).size;
      const ackedBefore = acked.length;
      const b0 = Date.now();
      const cli = startCli(['db', 'backup', copy], { DATA_DIR: dir });
      // A backup must finish while the writes go on (SQLite's online backup restarts whenever another connection writes).
      const timer = setTimeout(() => cli.child.kill('SIGKILL'), 30_000);
      const backup = await cli.done;
      clearTimeout(timer);
      const backupMs = Date.now() - b0;
      const ackedDuring = acked.length - ackedBefore;
      const streamRanOut = gen.left === 0;
      await sleep(500);
      stopStream = true;
      await stream;
      if (backup.code !== 0 || !backup.stdout.includes('已备份到')) problems.push(`backup exit ${backup.code ?? backup.signal} after ${backupMs} ms: ${backup.stdout} ${backup.stderr.slice(0, 500)}`);
      if (streamRanOut) problems.push(`the backup finished only once the writes had stopped (${backupMs} ms)`);
      if (refused) problems.push(`${refused} check-ins refused during the stream`);
      if (ackedDuring === 0) problems.push('no check-in was accepted while the backup ran (the attack did not overlap)');

      // The copy: intact, and each transaction in it whole.
      const c = inspectDb(copy, (db, integrity) => {
        const changes = db.prepare(`SELECT id, source_id, target, before, after FROM wf_changes ORDER BY id`).all() as { id: number; source_id: string; target: string; before: string; after: string }[];
        const audits = new Set((db.prepare(`SELECT detail FROM audit_log WHERE action = 'checkin.stage'`).all() as { detail: string }[]).map((a) => a.detail));
        const progress = db.prepare(`SELECT village_id, stage_key, note FROM wf_stage_progress`).all() as { village_id: number; stage_key: string; note: string }[];
        const events = db.prepare(`SELECT event_id, message_id, status FROM received_events`).all() as { event_id: string; message_id: string | null; status: string }[];
        const replies = new Set((db.prepare(`SELECT intent FROM outbox WHERE intent LIKE 'reply:%' OR intent LIKE 'checkin:%'`).all() as { intent: string }[]).map((o) => o.intent));
        return { integrity, changes, audits, progress, events, replies };
      });
      if (c.integrity !== 'ok') problems.push(`copy integrity: ${c.integrity}`);
      const progressKey = (vid: number, key: string) => `${vid}/${key}`;
      const notes = new Map(c.progress.map((p) => [progressKey(p.village_id, p.stage_key), p.note]));
      for (const ch of c.changes) {
        if (!c.audits.has(`source=${ch.source_id}`)) problems.push(`copy: change ${ch.source_id} without its audit row`);
        const m = /^village:(\d+)\/stage:(.+)$/.exec(ch.target)!;
        if (!/^F\d+$/.test(notes.get(progressKey(Number(m[1]), m[2]!)) ?? '')) problems.push(`copy: change ${ch.source_id} without its progress row`);
      }
      const sources = new Set(c.changes.map((ch) => ch.source_id));
      for (const e of c.events) {
        const reply = e.message_id ? `reply:${e.message_id}:0` : `checkin:${e.event_id}:0`;
        const source = e.message_id ?? `card:${e.event_id}`;
        if (e.status === 'done' && !c.replies.has(reply)) problems.push(`copy: event ${e.event_id} done but its reply is missing`);
        if (e.status === 'done' && !sources.has(source)) problems.push(`copy: event ${e.event_id} done but its check-in is missing`);
        if (e.status !== 'done' && c.replies.has(reply)) problems.push(`copy: event ${e.event_id} ${e.status} but its reply is there`);
      }
      if (c.changes.length < confirmedBefore || c.changes.length > acked.length) problems.push(`copy holds ${c.changes.length} check-ins; expected between ${confirmedBefore} and ${acked.length}`);
      const pendingInCopy = c.events.filter((e) => e.status === 'pending');

      // A new service on the copy: finishes what the copy had accepted, keeps every row, and answers from it.
      copyFileSync(copy, join(dir2, 'huanjie.db'));
      const r0 = Date.now();
      // The copy holds hundreds of unsent confirmations; a faster send rate (the fake has no limit) keeps this short.
      svc2 = await startService({ dataDir: dir2, fake: fake2, env: { SEND_RATE_PER_APP: '400' } });
      await waitUntil(
        () => inspectDb(join(dir2, 'huanjie.db'), (db) => (db.prepare(`SELECT COUNT(*) AS n FROM received_events WHERE status = 'pending'`).get() as { n: number }).n === 0),
        30_000,
        'the restored service to finish the accepted events',
      );
      const d2 = inspectDb(join(dir2, 'huanjie.db'), (db) => ({
        changes: db.prepare(`SELECT id, source_id, target, before, after FROM wf_changes ORDER BY id`).all() as typeof c.changes,
        progress: db.prepare(`SELECT village_id, stage_key, note FROM wf_stage_progress`).all() as { village_id: number; stage_key: string; note: string }[],
      }));
      const byId2 = new Map(d2.changes.map((ch) => [ch.id, ch]));
      for (const ch of c.changes) if (JSON.stringify(byId2.get(ch.id)) !== JSON.stringify(ch)) problems.push(`restored: change ${ch.id} differs`);
      const pendingSources = new Set(pendingInCopy.map((e) => e.message_id ?? `card:${e.event_id}`));
      for (const ch of d2.changes.slice(c.changes.length)) if (!pendingSources.has(ch.source_id)) problems.push(`restored: unexpected change ${ch.source_id}`);
      // Ask it: 进度 <village> as the admin, for every village; the notes it shows are those in its database.
      const admin = campaign.ids.admin;
      await Promise.all(
        villages.map((v, j) => postEvent(svc2!.base, messageEvent({ text: `进度 ${v.name}`, openId: admin, messageId: `om_q_${j}`, chatId: `oc_q_${j}` }))),
      );
      await waitUntil(() => villages.every((_, j) => fake2.sent.some((m) => m.reply_to === `om_q_${j}`)), 30_000, 'answers from the restored service');
      const restoreMs = Date.now() - r0;
      villages.forEach((v, j) => {
        const card = sentText(fake2.sent.find((m) => m.reply_to === `om_q_${j}`)!);
        const shown = [...card.matchAll(/备注：(F\d+)/g)].map((m) => m[1]).sort();
        const stored = d2.progress.filter((p) => p.village_id === v.id).map((p) => p.note).sort();
        if (JSON.stringify(shown) !== JSON.stringify(stored)) problems.push(`restored: 进度 ${v.name} shows ${shown.join(',')}, stored ${stored.join(',')}`);
      });
      const stop2 = await stopService(svc2);
      svc2 = undefined;
      if (stop2.code !== 0) problems.push(`restored service exit ${stop2.code}`);
      const stop = await stopService(svc);
      svc = undefined;
      if (stop.code !== 0) problems.push(`service exit ${stop.code}`);

      results.push({
        attack: 'db backup during check-ins',
        tries: acked.length,
        failures: problems.length,
        notes:
          `backup took ${backupMs} ms with ${ackedDuring} check-ins accepted meanwhile (${acked.length} in all); copy holds ${c.changes.length} ` +
          `(${pendingInCopy.length} accepted but unfinished, finished by the restored service); integrity ok; ` +
          `restored service answered 进度 for ${villages.length} villages from the copy's data (${restoreMs} ms from its start); ${((Date.now() - started) / 1000).toFixed(1)} s`,
      });
      expect(problems).toEqual([]);
    } catch (e) {
      for (const x of [svc, svc2]) if (x) process.stderr.write(`service output:\n${x.output().slice(-5000)}\n`);
      if (!results.some((r) => r.attack.startsWith('db backup'))) results.push({ attack: 'db backup during check-ins', tries: 1, failures: Math.max(1, problems.length), notes: `${problems.join('; ')} ${String(e)}`.slice(0, 400) });
      throw e;
    } finally {
      for (const x of [svc, svc2]) if (x) await stopService(x, 'SIGKILL');
      await fake.close();
      await fake2.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(dir2, { recursive: true, force: true });
    }
  });

  // The real thing where the machine allows it (root may mount a size-limited tmpfs); the store's injected
  // "full" (SQLite's max_page_count) always, so the fallback that CI relies on elsewhere is itself tested.
  it.each(['tmpfs', 'injected'] as const)('disk full (%s) while the service runs: new work refused with a clear message, nothing accepted lost, all handled once space returns', async (mode) => {
    const started = Date.now();
    const random = rng(SEED + (mode === 'tmpfs' ? 41 : 42));
    const fake = await FakeLark.start();
    const dir = tempDir('hj-fault-diskfull-');
    const switchFile = join(tempDir('hj-fault-switch-'), 'disk-full');
    let mounted = false;
    if (mode === 'tmpfs') {
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir], { stdio: 'ignore' });
        mounted = true;
      } catch {
        mounted = false;
      }
    }
    const how = mounted ? 'tmpfs 64 MB' : mode === 'tmpfs' ? 'injected: tmpfs mount not allowed here' : 'injected (HJ_FAULT_DISK_FULL_FILE)';
    const ballast = join(dir, 'ballast');
    const { campaign, villages } = seed(dir, 50);
    const gen = new Checkins(campaign, villages, random, `df${SEED}`);
    const problems: string[] = [];
    let svc: Service | undefined;
    try {
      svc = await startService({ dataDir: dir, fake, env: mounted ? {} : { HJ_FAULT_DISK_FULL_FILE: switchFile } });
      const s = svc;
      type Sent = ReturnType<Checkins['make']> & { r: PostResult; phase: 'before' | 'full' | 'after' };
      const all: Sent[] = [];
      const send = async (c: ReturnType<Checkins['make']>, phase: Sent['phase']) => {
        const r = await postEvent(s.base, c.payload);
        const x = { ...c, r, phase };
        all.push(x);
        return x;
      };
      const toast = (r: PostResult) => (r.status === 200 ? ((r.body as { toast?: { type: string; content: string } }).toast ?? null) : null);

      // Before: ordinary work.
      for (let i = 0; i < 30; i++) await send(gen.make(0.3), 'before');
      if (all.some((x) => x.r.status !== 200)) problems.push('refusals before the disk was full');
      await waitUntil(() => fake.sent.length >= 30, 30_000, 'the first confirmations');

      // Fill it while check-ins are in flight (some are caught between being accepted and being saved).
      // The WAL is emptied first (as after any checkpoint), so the writes soon need new space.
      inspectDb(join(dir, 'huanjie.db'), (db) => db.pragma('wal_checkpoint(TRUNCATE)'));
      const fullFrom = all.length;
      const isRefusal = (x: Sent) => x.r.status === 503 || toast(x.r)?.type === 'error';
      const refusals = () => all.slice(fullFrom).filter(isRefusal).length;
      let streaming = true;
      const stream = Promise.all(
        Array.from({ length: 4 }, async () => {
          while (streaming && refusals() < 12 && gen.left > 80) await send(gen.make(0.3), 'full');
        }),
      );
      await sleep(100);
      let filled = 0;
      if (mounted) {
        const fd = openSync(ballast, 'w');
        for (const size of [1 << 20, 64 << 10, 4096, 512, 1]) {
          const buf = Buffer.alloc(size, 7);
          try {
            for (;;) filled += writeSync(fd, buf);
          } catch (e) {
            if ((e as { code?: string }).code !== 'ENOSPC') throw e;
          }
        }
        closeSync(fd);
        // Give back a little (seeded, up to 512 KB): the last writes then fail wherever they are — taking
        // the event in, the check-in itself, or its reply — rather than always at the door.
        const margin = Math.floor(random() * 512) * 1024;
        truncateSync(ballast, filled - margin);
        filled -= margin;
      } else {
        writeFileSync(switchFile, 'full');
        await sleep(300);
      }

      // The stream goes on until the service has refused several (or has taken 400 more).
      await waitUntil(() => refusals() >= 12 || all.length - fullFrom >= 400 || gen.left <= 80, 60_000, 'refusals while full');
      streaming = false;
      await stream;
      // A few more once it is known to be full (refused at once).
      for (let i = 0; i < 8; i++) await send(gen.make(0.5), 'full');
      let readyWhileFull: number | undefined;
      let readyBody: unknown;
      const ready = await fetch(s.base + '/readyz');
      readyWhileFull = ready.status;
      readyBody = await ready.json();
      const healthWhileFull = (await fetch(s.base + '/healthz')).status;
      const during = all.slice(fullFrom);
      const statuses = new Map<string, number>();
      for (const x of during) {
        const k = x.r.status === 200 ? `200 ${toast(x.r)?.type ?? 'ack'}` : String(x.r.status);
        statuses.set(k, (statuses.get(k) ?? 0) + 1);
      }
      for (const x of during) {
        if (x.r.status === 503 && !JSON.stringify(x.r.body).includes('存储空间已满')) problems.push(`503 without the message: ${JSON.stringify(x.r.body)}`);
        if (x.r.status !== 200 && x.r.status !== 503) problems.push(`#${x.i} (${x.kind}) answered ${x.r.status} while full`);
        const t = toast(x.r);
        if (t && t.type !== 'success' && !t.content.includes('存储空间已满')) problems.push(`#${x.i} card toast「${t.content}」while full`);
      }
      if (refusals() === 0) problems.push('nothing was refused: the disk never filled');
      if (readyWhileFull !== 503) problems.push(`readyz ${readyWhileFull} while full: ${JSON.stringify(readyBody)}`);
      if (healthWhileFull !== 200) problems.push(`healthz ${healthWhileFull} while full`);
      if (s.child.exitCode !== null || s.child.signalCode !== null) problems.push('the service died while the disk was full');

      // Accepted but not yet saved: waiting for space (their events stay 'pending').
      const waiting = inspectDb(join(dir, 'huanjie.db'), (d) => (d.prepare(`SELECT COUNT(*) AS n FROM received_events WHERE status = 'pending'`).get() as { n: number }).n);

      // Space returns.
      if (mounted) unlinkSync(ballast);
      else unlinkSync(switchFile);
      await waitUntil(async () => (await fetch(s.base + '/readyz')).status === 200, 15_000, 'readyz once space returned');
      // Lark redelivers what was refused (same event ids); a person whose card was refused submits it again (a new callback).
      const again: Sent[] = [];
      for (const x of during.filter(isRefusal)) {
        if (x.kind === 'chat') again.push(await send(x, 'after'));
        else {
          const fv = ((x.payload as { event: { action: { form_value: Record<string, string> } } }).event.action.form_value);
          const eventId = `${x.sourceId.slice(5)}_retry`;
          const payload = cardActionEvent({ value: { action: 'checkin_submit' }, formValue: fv, openId: gen.cadreOf(x.v), eventId });
          again.push(await send({ ...x, payload, sourceId: `card:${eventId}` }, 'after'));
        }
      }
      for (let i = 0; i < 10; i++) await send(gen.make(0.3), 'after');
      for (const x of all.filter((y) => y.phase === 'after')) if (x.r.status !== 200 || (toast(x.r) && toast(x.r)!.type !== 'success')) problems.push(`#${x.i} after space returned: ${x.r.status} ${JSON.stringify('body' in x.r ? x.r.body : x.r.error)}`);

      // Every check-in, in the end, recorded once and confirmed once; the refused card callbacks themselves never recorded.
      const expectedNotes = new Set(all.map((x) => String(x.i)));
      await waitUntil(() => new Set(fake.sent.map((m) => noteOf(sentText(m))).filter(Boolean)).size >= expectedNotes.size, 60_000, `${expectedNotes.size} confirmations`).catch((e) => problems.push(String(e)));
      await sleep(1500);
      const stop = await stopService(svc);
      svc = undefined;
      if (stop.code !== 0) problems.push(`exit code ${stop.code}`);
      const db = inspectDb(join(dir, 'huanjie.db'), (d, integrity) => ({
        integrity,
        sources: (d.prepare(`SELECT source_id FROM wf_changes`).all() as { source_id: string }[]).map((r) => r.source_id),
        notDone: (d.prepare(`SELECT COUNT(*) AS n FROM received_events WHERE status != 'done'`).get() as { n: number }).n,
      }));
      const bySource = new Map<string, number>();
      for (const src of db.sources) bySource.set(src, (bySource.get(src) ?? 0) + 1);
      const confirmations = new Map<string, number>();
      for (const m of fake.sent) {
        const n = noteOf(sentText(m));
        if (n !== undefined) confirmations.set(n, (confirmations.get(n) ?? 0) + 1);
      }
      for (const i of expectedNotes) if (confirmations.get(i) !== 1) problems.push(`F${i}: confirmed ${confirmations.get(i) ?? 0}×`);
      for (const x of all) {
        const refusedCard = x.kind === 'card' && toast(x.r)?.type === 'error';
        const n = bySource.get(x.sourceId) ?? 0;
        if (refusedCard && n !== 0) problems.push(`refused card #${x.i} was recorded anyway`);
        if (!refusedCard && n !== 1) problems.push(`#${x.i} (${x.kind}, ${x.phase}) recorded ${n}×`);
      }
      const strangers = fake.sent.filter((m) => noteOf(sentText(m)) === undefined);
      if (strangers.length) problems.push(`unexpected messages: ${strangers.map(sentText).join(' | ').slice(0, 300)}`);
      if (db.notDone) problems.push(`${db.notDone} events not done`);
      if (db.integrity !== 'ok') problems.push(`integrity ${db.integrity}`);

      const fmt = [...statuses].map(([k, n]) => `${k}×${n}`).join(', ');
      results.push({
        attack: `disk full (${how})`,
        tries: all.length,
        failures: problems.length,
        notes:
          `${mounted ? `${(filled / 1048576).toFixed(1)} MB of ballast` : 'switch file'}; from the fill on: ${fmt}; ${waiting} accepted events waiting for space; readyz ${readyWhileFull}, healthz ${healthWhileFull}; ` +
          `after space returned: ${again.length} redelivered/resubmitted + 10 new, each recorded and confirmed once; integrity ${db.integrity}; clean exit; ` +
          `${((Date.now() - started) / 1000).toFixed(1)} s`,
      });
      expect(problems).toEqual([]);
    } catch (e) {
      if (svc) process.stderr.write(`service output:\n${svc.output().slice(-8000)}\n`);
      if (!results.some((r) => r.attack.startsWith('disk full'))) results.push({ attack: `disk full (${how})`, tries: 1, failures: Math.max(1, problems.length), notes: `${problems.join('; ')} ${String(e)}`.slice(0, 400) });
      throw e;
    } finally {
      if (svc) await stopService(svc, 'SIGKILL');
      await fake.close();
      rmSync(dirname(switchFile), { recursive: true, force: true });
      if (mounted) {
        try {
          execFileSync('umount', [dir], { stdio: 'ignore' });
        } catch {
          execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

