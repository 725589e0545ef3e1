/**
 * Reminders at province scale (issue 5): 30,000 villages, 100,000 talks,
 * 60,000 people. Times the scan of one reminder slot (target < 1 s; the
 * service scans a county at a time) and its planning (scan + writing every
 * delivery and outbox row), and reports the true peak RSS (VmHWM) of a fresh
 * process that imports the service's modules (target < 400 MB), next to a baseline measured
 * in the same run: the per-person read model (`dueItemsFor`, what 我的 uses),
 * timed on a sample and extrapolated. Then sends 10,000 reminders through the
 * real sender to a fake Lark Open Platform on loopback and reports how long
 * Lark's limits (50/s and 1,000/min per app, 5/s per person) make that take.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { ManualClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { Runtime } from '../src/runtime.js';
import { benchStoreEnv, benchStores, dropBenchDb, mergeSideBySide, openBenchDb, STORE_LABEL, type BenchDb, type BenchStore, type SideBySide } from './store.js';
import { createScheduleRepo } from '../src/store/schedule-repo.js';
import { createOutboxRepo } from '../src/store/outbox-repo.js';
import { createWorkflowRepos } from '../src/store/workflow-repos.js';
import type { WorkflowContext } from '../src/workflow/context.js';
import { dueItemsFor } from '../src/workflow/progress.js';
import { planReminderSlot, reminderBatches } from '../src/workflow/reminders/planner.js';
import { slotOn } from '../src/workflow/schedule/daily-slots.js';
import { FakeLark } from '../tests/helpers/fake-lark.js';
import { fmt, peakRss, ROOT, table } from './lib.js';
import { generateProvince } from './province-data.js';

const DAY = '2026-11-10';
const TZ = 'Asia/Shanghai';
const mb = (b: number) => b / 1024 / 1024;

interface ScanFigures {
  rssStart: number;
  compute: number[];
  messages: number;
  items: number;
  escalations: number;
  counties: number;
  baselinePerPerson: number;
  people: number;
  peakRss: number;
}

interface PlanFigures {
  rssStart: number;
  plan: number;
  messages: number;
  peakRss: number;
}

function open(b: BenchDb) {
  const db = openBenchDb(b);
  const clock = new ManualClock(slotOn(DAY, '09:00', TZ).at);
  const ctx: WorkflowContext = { repos: createWorkflowRepos(db), tz: TZ, clock };
  return { db, clock, ctx, schedule: createScheduleRepo(db) };
}

/** The scan as the service runs it (county by county, messages dropped once counted), three times. */
function measureScan(b: BenchDb): ScanFigures {
  const rssStart = process.memoryUsage().rss;
  const { db, ctx, schedule } = open(b);
  const compute: number[] = [];
  let messages = 0;
  let items = 0;
  let escalations = 0;
  let counties = 0;
  for (let i = 0; i < 3; i++) {
    messages = items = escalations = counties = 0;
    const t0 = performance.now();
    for (const batch of reminderBatches(ctx, schedule, DAY)) {
      counties++;
      messages += batch.length;
      for (const m of batch) {
        items += m.items.length;
        if (m.kind === 'escalation') escalations++;
      }
    }
    compute.push(performance.now() - t0);
  }
  const peak = peakRss();
  // Baseline: the per-person read model (what 我的 uses) over a sample of the people who get reminders.
  const people = ctx.repos.roster.people().filter((p) => p.role === '干部' || p.role === '工作组');
  const some = people.filter((_, i) => i % 2000 === 0);
  const b0 = performance.now();
  for (const p of some) dueItemsFor(ctx, p, { day: DAY });
  const perPerson = (performance.now() - b0) / some.length;
  db.close();
  return { rssStart, compute: compute.sort((a, b) => a - b), messages, items, escalations, counties, baselinePerPerson: perPerson, people: people.length, peakRss: peak };
}

/** Planning one slot (scan + every delivery and outbox row written), in a fresh process as the service would. */
function measurePlan(b: BenchDb): PlanFigures {
  const rssStart = process.memoryUsage().rss;
  const { db, clock, ctx, schedule } = open(b);
  const t0 = performance.now();
  const r = planReminderSlot(
    { db, ctx, schedule, outbox: createOutboxRepo(db), wallNow: () => Date.now(), onMessages: () => {} },
    { date: DAY, at: clock.now() },
    'send',
  );
  const plan = performance.now() - t0;
  db.close();
  return { rssStart, plan, messages: r.messages, peakRss: peakRss() };
}

function runChild<T>(b: BenchDb, mode: 'scan' | 'plan'): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(ROOT + 'node_modules/.bin/tsx', [fileURLToPath(import.meta.url), '--measure', mode, b.store, b.file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`measure exited ${code}`))));
  });
}

/** Sends `count` reminder-sized cards to `count` people through the real sender and SDK to the fake. */
async function sendThroughFake(count: number, store: BenchStore): Promise<{ seconds: number; maxPerSecond: number; maxPerMinute: number; maxPerPerson: number; sent: number; requests: number }> {
  const fake = await FakeLark.start();
  const dir = mkdtempSync(join(tmpdir(), 'hj-bench-send-'));
  const config = loadConfig({ DATA_DIR: dir, ...benchStoreEnv(store, dir), LARK_APP_ID: 'cli_a1b2c3d4e5f60718', LARK_APP_SECRET: 'bench-secret', LARK_DOMAIN: fake.url, LARK_BOT_OPEN_ID: fake.botOpenId, LOG_LEVEL: 'silent' });
  const rt = new Runtime({ config, logger: createLogger(config, pino.destination('/dev/null')), noServices: true, ingestAtStart: false });
  await rt.start();
  const t0 = Date.now();
  const card = { schema: '2.0', header: { title: { tag: 'plain_text', content: '换届工作提醒' } }, body: { elements: [{ tag: 'markdown', content: '城西村：资格审查 — 🟠 今天到期' }] } };
  for (let i = 0; i < count; i++) rt.outbox.enqueue({ intent: `bench:${i}`, to: { type: 'open_id', id: `ou_bench_${i}` }, msgType: 'interactive', content: card });
  let lastReport = Date.now();
  while (fake.sent.length < count) {
    await new Promise((r) => setTimeout(r, 500));
    if (Date.now() - lastReport > 30_000) {
      lastReport = Date.now();
      process.stdout.write(`  … ${fake.sent.length}/${count} sent after ${fmt((Date.now() - t0) / 1000, 0)} s\n`);
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  const times = fake.sent.map((m) => m.at).sort((a, b) => a - b);
  const maxIn = (windowMs: number) => {
    let best = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= windowMs) j++;
      best = Math.max(best, i - j + 1);
    }
    return best;
  };
  const perPerson = new Map<string, number>();
  for (const m of fake.sent) perPerson.set(m.receive_id ?? '', (perPerson.get(m.receive_id ?? '') ?? 0) + 1);
  const res = { seconds, maxPerSecond: maxIn(1000), maxPerMinute: maxIn(60_000), maxPerPerson: Math.max(...perPerson.values()), sent: fake.sent.length, requests: fake.requests.length };
  await rt.stop({ flushMs: 0 });
  await fake.close();
  if (store === 'postgres') dropBenchDb({ store, file: join(dir, 'huanjie.db') });
  rmSync(dir, { recursive: true, force: true });
  return res;
}

export async function benchReminders(stores: BenchStore[] = ['sqlite'], side: SideBySide = []): Promise<void> {
  for (const store of stores) await benchRemindersOn(store, side);
}

async function benchRemindersOn(store: BenchStore, side: SideBySide): Promise<void> {
  console.log(`\n## Reminders (province scale) — ${STORE_LABEL[store]}`);
  const b: BenchDb = { store, file: join(tmpdir(), `hj-bench-rem-${process.pid}.db`) };
  try {
    const db = openBenchDb(b, { fresh: true });
    const gen = generateProvince(db, { villages: 30_000, people: 60_000, talks: 100_000, seed: 2, today: DAY });
    db.close();
    console.log(`data: ${gen.villages} villages, ${gen.people} people, ${gen.talks} talks — generated in ${fmt(gen.ms / 1000, 1)} s`);
    const f = await runChild<ScanFigures>(b, 'scan');
    const pl = await runChild<PlanFigures>(b, 'plan');
    const baselineAll = f.baselinePerPerson * f.people;
    const p50 = f.compute[1]!;
    mergeSideBySide(side, store, [
      { measure: 'reminder slot scan (median of 3)', target: '< 1 s', value: `${fmt(p50, 0)} ms` },
      { measure: 'plan one slot (53,592 messages written)', target: '', value: `${fmt(pl.plan / 1000, 1)} s` },
      { measure: 'peak RSS, planning the slot', target: '< 400 MB', value: `${fmt(mb(pl.peakRss), 0)} MB` },
    ]);
    console.log(
      table([
        ['measure', 'value', 'target', 'baseline (same run)', 'ratio'],
        [`scan one slot, ${f.counties} counties one at a time (median of 3)`, `${fmt(p50, 0)} ms`, '< 1 s', `per-person dueItemsFor × ${f.people} people ≈ ${fmt(baselineAll / 1000, 1)} s`, `${fmt(baselineAll / p50, 0)}× faster`],
        ['', `${f.messages} messages, ${f.items} items, ${f.escalations} escalations`, '', '', ''],
        ['plan one slot (scan + write every delivery and outbox row, 1,000 per transaction)', `${fmt(pl.plan, 0)} ms`, '', `${pl.messages} messages written`, ''],
        ['peak RSS (VmHWM) of a fresh process planning the slot', `${fmt(mb(pl.peakRss), 0)} MB`, '< 400 MB', `at start (node, tsx, service modules): ${fmt(mb(pl.rssStart), 0)} MB`, ''],
        ['peak RSS (VmHWM) of the scan process after 3 scans', `${fmt(mb(f.peakRss), 0)} MB`, '< 400 MB', `at start: ${fmt(mb(f.rssStart), 0)} MB`, ''],
      ]),
    );
  } finally {
    dropBenchDb(b);
  }
  const count = Number(process.env.BENCH_SEND_COUNT ?? 10_000);
  const minMinutes = Math.max(0, count - 1000) / 1000; // the first 1,000 fit in the first minute's window
  console.log(`\nSending ${count} reminders through the outbox to a fake Lark Open Platform (the 1,000/min app limit makes this take at least ${fmt(minMinutes, 1)} min)…`);
  const s = await sendThroughFake(count, store);
  mergeSideBySide(side, store, [{ measure: `send ${count} reminders through the fake Lark`, target: 'Lark limits', value: `${fmt(s.seconds, 0)} s, ≤${s.maxPerSecond}/s, ≤${s.maxPerMinute}/min, ${s.maxPerPerson}/person` }]);
  console.log(
    table([
      ['measure', 'value', 'limit'],
      ['time to deliver all', `${fmt(s.seconds, 0)} s (${fmt(s.seconds / 60, 1)} min)`, `≥ ${fmt(minMinutes, 1)} min at 1,000/min`],
      ['most in any 1 s / any 60 s at the fake', `${s.maxPerSecond} / ${s.maxPerMinute}`, '50 / 1,000'],
      ['most to one person', String(s.maxPerPerson), 'exactly 1'],
      ['delivered / HTTP requests', `${s.sent} / ${s.requests}`, ''],
    ]),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv[2] === '--measure') {
    await import('../src/runtime.js'); // the service's modules: the memory figures are the service process's
    (await import('../src/heap.js')).limitHeapGrowth(); // and its start-up setting
    const b: BenchDb = { store: process.argv[4] as BenchStore, file: process.argv[5]! };
    process.stdout.write(JSON.stringify(process.argv[3] === 'scan' ? measureScan(b) : measurePlan(b)));
  }
  else await benchReminders(await benchStores());
}
