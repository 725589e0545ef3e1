/**
 * Leaders' digest at province scale (issue 5): 30,000 villages in 10 counties
 * (~3,000 each), 16 required stages per village, 100,000 talks, 60,000
 * people. Times one county's digest (target < 200 ms) and every leader's
 * digest of the province, and reports peak memory (target RSS < 400 MB).
 * Baselines measured in the same run over the same county: the progress CLI's
 * `progressRows`, and the naive approach of one query set per village.
 *
 * The data is generated here, then the measuring runs in a fresh process on
 * the database file (as the service would find it), so its peak RSS is the
 * digest's, not the generator's.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWorkerRenderer } from '../src/charts/render-pool.js';
import { ManualClock } from '../src/clock.js';
import { limitHeapGrowth } from '../src/heap.js';
import { benchStores, dropBenchDb, mergeSideBySide, openBenchDb, STORE_LABEL, type BenchDb, type BenchStore, type SideBySide } from './store.js';
import { createWorkflowRepos } from '../src/store/workflow-repos.js';
import type { WorkflowContext } from '../src/workflow/context.js';
import { cardBytes, digestCard } from '../src/workflow/digest/card.js';
import { digestChart } from '../src/workflow/digest/charts.js';
import { buildDigest, buildDigests } from '../src/workflow/digest/data.js';
import { loadPrincipal } from '../src/workflow/permissions.js';
import { progressRows, villageLines } from '../src/workflow/progress.js';
import { fmt, peakRss, percentile, ROOT, table } from './lib.js';
import { generateProvince, type ProvinceSummary } from './province-data.js';

const DAY = '2026-11-10';
const mb = (b: number) => b / 1024 / 1024;
/** A heap cap for the second province run: shows the live set, which the default heap growth hides. */
const CAPPED_HEAP_MB = 160;

function time<T>(f: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = f();
  return { ms: performance.now() - t0, value };
}

interface Figures {
  rssStart: number;
  cold: number;
  warm: number[];
  card: number;
  cardBytes: number;
  chart: number;
  chartFirst: number;
  progressRows: number;
  naive: number;
  maxRssAll: number;
  county: { villages: number; overdue: number; overdueVillages: number; notReported: number; talks: number };
}

interface ProvinceFigures {
  rssStart: number;
  ms: number;
  digests: number;
  maxCard: number;
  peakRss: number;
}

/** Every leader's digest of the province, as the 9 o'clock run builds them, in a fresh process. */
async function measureProvince(b: BenchDb, gen: ProvinceSummary): Promise<ProvinceFigures> {
  await import('../src/runtime.js');
  limitHeapGrowth(); // as the service sets it at start
  const rssStart = process.memoryUsage().rss;
  const db = openBenchDb(b);
  const repos = createWorkflowRepos(db);
  const ctx: WorkflowContext = { repos, tz: 'Asia/Shanghai', clock: new ManualClock(Date.parse(`${DAY}T00:30:00Z`)) };
  const leaders = [...gen.leaders.county, ...gen.leaders.township].map((o) => loadPrincipal(repos.roster, { openId: o, isAdmin: false }));
  leaders.push(...gen.leaders.admin.map((o) => loadPrincipal(repos.roster, { openId: o, isAdmin: true })));
  let maxCard = 0;
  let digests = 0;
  const t = time(() => {
    for (const r of buildDigests(ctx, leaders, DAY)) {
      if (!r.data) throw new Error(r.error);
      maxCard = Math.max(maxCard, cardBytes(digestCard(r.data)));
      digests++;
    }
  });
  db.close();
  return { rssStart, ms: t.ms, digests, maxCard, peakRss: peakRss() };
}

/** The measuring half, in its own process. */
async function measure(b: BenchDb, gen: ProvinceSummary): Promise<Figures> {
  // The service's modules, so that the memory figures are those of the service process.
  await import('../src/runtime.js');
  limitHeapGrowth(); // as the service sets it at start
  const rssStart = process.memoryUsage().rss;
  const db = openBenchDb(b);
  const repos = createWorkflowRepos(db);
  const ctx: WorkflowContext = { repos, tz: 'Asia/Shanghai', clock: new ManualClock(Date.parse(`${DAY}T00:30:00Z`)) };
  const county = gen.counties[0]!;
  const leader = loadPrincipal(repos.roster, { openId: gen.leaders.county[0]!, isAdmin: false });

  const cold = time(() => buildDigest(ctx, leader, DAY));
  const warm: number[] = [];
  for (let i = 0; i < 15; i++) warm.push(time(() => buildDigest(ctx, leader, DAY)).ms);
  warm.sort((a, b) => a - b);
  const data = cold.value;
  const card = time(() => digestCard(data));
  // The chart as the service renders it: on the worker thread (first chart includes the worker's start).
  const renderer = createWorkerRenderer();
  const c = digestChart(data);
  let t0 = performance.now();
  await renderer.png(c.option, c.width, c.height);
  const chartFirst = performance.now() - t0;
  t0 = performance.now();
  await renderer.png(c.option, c.width, c.height);
  const chart = { ms: performance.now() - t0 };
  await renderer.close();

  const inCounty = (v: { countyId: number }) => v.countyId === county.id;
  const rows: number[] = [];
  for (let i = 0; i < 3; i++) rows.push(time(() => progressRows(ctx, inCounty)).ms);
  rows.sort((a, b) => a - b);
  // Naive: the village list, then per village its plan (overrides + progress queries) and its people.
  const naive = time(() => {
    let late = 0;
    for (const v of repos.roster.villages().filter(inCounty)) {
      late += villageLines(ctx, v, DAY).filter((l) => l.overdueDays > 0).length;
      repos.roster.assignees(v.id);
    }
    return late;
  });

  db.close();
  return {
    rssStart,
    cold: cold.ms,
    warm,
    card: card.ms,
    cardBytes: cardBytes(card.value),
    chart: chart.ms,
    chartFirst,
    progressRows: rows[1]!,
    naive: naive.ms,
    maxRssAll: peakRss(),
    county: { villages: data.villages, overdue: data.overdue.total, overdueVillages: data.overdue.villageCount, notReported: data.notReported.count, talks: data.talks.total },
  };
}

function runChild<T>(b: BenchDb, gen: ProvinceSummary, mode: 'county' | 'province', nodeOptions = ''): Promise<T | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(ROOT + 'node_modules/.bin/tsx', [fileURLToPath(import.meta.url), '--measure', mode, b.store, b.file], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', nodeOptions ? 'ignore' : 'inherit'],
      env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${nodeOptions}`.trim() },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    // With a capped heap, running out of memory is a result (null), not a bench failure.
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as T) : nodeOptions ? resolve(null) : reject(new Error(`digest bench child exited with ${code}`))));
    child.stdin.end(JSON.stringify(gen));
  });
}

export async function benchDigest(stores: BenchStore[] = ['sqlite'], side: SideBySide = []): Promise<void> {
  for (const store of stores) await benchDigestOn(store, side);
}

async function benchDigestOn(store: BenchStore, side: SideBySide): Promise<void> {
  console.log(`\n## Leaders’ digest (province scale) — ${STORE_LABEL[store]}`);
  const b: BenchDb = { store, file: join(tmpdir(), `hj-bench-digest-${process.pid}.db`) };
  try {
    const db = openBenchDb(b, { fresh: true });
    const gen = generateProvince(db, { villages: 30_000, people: 60_000, talks: 100_000, seed: 1, today: DAY });
    db.close();
    console.log(
      `data: ${gen.counties.length} counties, ${gen.townships} townships, ${gen.villages} villages, ${gen.people} people (${gen.assignments} assignments), ` +
        `${gen.talks} talks, ${gen.progressRows} stage rows, ${gen.risks} risks — generated in ${fmt(gen.ms / 1000, 1)} s`,
    );
    const f = (await runChild<Figures>(b, gen, 'county'))!;
    const pr = (await runChild<ProvinceFigures>(b, gen, 'province'))!;
    const capped = await runChild<ProvinceFigures>(b, gen, 'province', `--max-old-space-size=${CAPPED_HEAP_MB}`);
    const p50 = percentile(f.warm, 50);
    mergeSideBySide(side, store, [
      { measure: 'county digest, cold / warm p50', target: '< 200 ms', value: `${fmt(f.cold, 0)} / ${fmt(p50, 0)} ms` },
      { measure: 'whole province, 312 digests', target: '', value: `${fmt(pr.ms / 1000, 2)} s` },
      { measure: 'peak RSS, province digest run', target: '< 400 MB', value: `${fmt(mb(pr.peakRss), 0)} MB` },
    ]);
    console.log(
      table([
        ['measure', 'value', 'target', 'baseline (same run, same county)', 'ratio'],
        ['one county digest, cold (first of the process)', `${fmt(f.cold, 0)} ms`, '< 200 ms', '', ''],
        ['one county digest, warm p50 / max of 15', `${fmt(p50, 0)} / ${fmt(f.warm.at(-1)!, 0)} ms`, '< 200 ms', `progressRows ${fmt(f.progressRows, 0)} ms; per-village queries ${fmt(f.naive, 0)} ms`, `${fmt(f.progressRows / p50, 1)}× / ${fmt(f.naive / p50, 1)}× faster`],
        ['card from the data', `${fmt(f.card, 1)} ms`, '', `card ${f.cardBytes} B (Lark limit 30 KB)`, ''],
        ['chart PNG on the worker thread (first, with its start / next)', `${fmt(f.chartFirst, 0)} / ${fmt(f.chart, 0)} ms`, '', 'the main thread is free meanwhile', ''],
        ['whole province: every leader, data + card (fresh process)', `${fmt(pr.ms / 1000, 2)} s, ${pr.digests} digests`, '', `${fmt(pr.ms / pr.digests, 1)} ms each; largest card ${pr.maxCard} B`, ''],
        ['peak RSS (VmHWM) of that process', `${fmt(mb(pr.peakRss), 0)} MB`, '< 400 MB', `at start (node, tsx, service modules): ${fmt(mb(pr.rssStart), 0)} MB`, ''],
        [
          `the same with the heap capped at ${CAPPED_HEAP_MB} MB`,
          capped ? `${fmt(mb(capped.peakRss), 0)} MB, ${fmt(capped.ms / 1000, 2)} s` : 'ran out of memory',
          '< 400 MB',
          'what is live, not what V8 lets garbage grow to',
          '',
        ],
        ['peak RSS of the county process (17 county digests, chart, baselines)', `${fmt(mb(f.maxRssAll), 0)} MB`, '', 'progressRows loads the whole province', ''],
      ]),
    );
    console.log(
      `(the county: ${f.county.villages} villages, ${f.county.overdue} overdue stages in ${f.county.overdueVillages} villages, ${f.county.notReported} not reported, ${f.county.talks} talks. ` +
        'The province run loads each county once; the 2 province-wide admin digests are built from the same loads, a county at a time.)',
    );
  } finally {
    dropBenchDb(b);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv[2] === '--measure') {
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const gen = JSON.parse(input) as ProvinceSummary;
    const [mode, store, file] = [process.argv[3], process.argv[4] as BenchStore, process.argv[5]!];
    const b: BenchDb = { store, file };
    process.stdout.write(JSON.stringify(mode === 'province' ? await measureProvince(b, gen) : await measure(b, gen)));
  } else {
    await benchDigest(await benchStores());
  }
}
