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
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderPng } from '../src/charts/render.js';
import { ManualClock } from '../src/clock.js';
import { openDb } from '../src/store/db.js';
import { createWorkflowRepos } from '../src/store/workflow-repos.js';
import type { WorkflowContext } from '../src/workflow/context.js';
import { cardBytes, digestCard } from '../src/workflow/digest/card.js';
import { digestChart } from '../src/workflow/digest/charts.js';
import { buildDigest, buildDigests } from '../src/workflow/digest/data.js';
import { loadPrincipal } from '../src/workflow/permissions.js';
import { progressRows, villageLines } from '../src/workflow/progress.js';
import { fmt, percentile, ROOT, table } from './lib.js';
import { generateProvince, type ProvinceSummary } from './province-data.js';

const DAY = '2026-11-10';
const mb = (b: number) => b / 1024 / 1024;

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
  progressRows: number;
  naive: number;
  province: number;
  digests: number;
  maxCard: number;
  peakRss: number;
  maxRss: number;
  maxRssAll: number;
  county: { villages: number; overdue: number; overdueVillages: number; notReported: number; talks: number };
}

/** The measuring half, in its own process. */
function measure(file: string, gen: ProvinceSummary): Figures {
  const rssStart = process.memoryUsage().rss;
  const db = openDb(file);
  const repos = createWorkflowRepos(db);
  const ctx: WorkflowContext = { repos, tz: 'Asia/Shanghai', clock: new ManualClock(Date.parse(`${DAY}T00:30:00Z`)) };
  const county = gen.counties[0]!;
  const leader = loadPrincipal(repos.roster, { openId: gen.leaders.county[0]!, isAdmin: false });

  const cold = time(() => buildDigest(ctx, leader, DAY));
  const warm: number[] = [];
  for (let i = 0; i < 15; i++) warm.push(time(() => buildDigest(ctx, leader, DAY)).ms);
  warm.sort((a, b) => a - b);
  const leaders = [...gen.leaders.county, ...gen.leaders.township, ...gen.leaders.admin].map((o) => loadPrincipal(repos.roster, { openId: o, isAdmin: false }));
  let peakRss = 0;
  let maxCard = 0;
  let digests = 0;
  const province = time(() => {
    for (const r of buildDigests(ctx, leaders, DAY)) {
      if (!r.data) throw new Error(r.error);
      maxCard = Math.max(maxCard, cardBytes(digestCard(r.data)));
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      digests++;
    }
  });
  const maxRssDigests = process.resourceUsage().maxRSS * 1024;
  const data = cold.value;
  const card = time(() => digestCard(data));
  const chart = time(() => {
    const c = digestChart(data);
    return renderPng(c.option, c.width, c.height);
  });

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
    progressRows: rows[1]!,
    naive: naive.ms,
    province: province.ms,
    digests,
    maxCard,
    peakRss,
    maxRss: maxRssDigests,
    maxRssAll: process.resourceUsage().maxRSS * 1024,
    county: { villages: data.villages, overdue: data.overdue.total, overdueVillages: data.overdue.villageCount, notReported: data.notReported.count, talks: data.talks.total },
  };
}

function runChild(file: string, gen: ProvinceSummary): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = spawn(ROOT + 'node_modules/.bin/tsx', [fileURLToPath(import.meta.url), '--measure', file], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Figures) : reject(new Error(`digest bench child exited with ${code}`))));
    child.stdin.end(JSON.stringify(gen));
  });
}

export async function benchDigest(): Promise<void> {
  console.log('\n## Leaders’ digest (province scale)');
  const file = join(tmpdir(), `hj-bench-digest-${process.pid}.db`);
  try {
    const db = openDb(file);
    const gen = generateProvince(db, { villages: 30_000, people: 60_000, talks: 100_000, seed: 1, today: DAY });
    db.close();
    console.log(
      `data: ${gen.counties.length} counties, ${gen.townships} townships, ${gen.villages} villages, ${gen.people} people (${gen.assignments} assignments), ` +
        `${gen.talks} talks, ${gen.progressRows} stage rows, ${gen.risks} risks — generated in ${fmt(gen.ms / 1000, 1)} s`,
    );
    const f = await runChild(file, gen);
    const p50 = percentile(f.warm, 50);
    console.log(
      table([
        ['measure', 'value', 'target', 'baseline (same run, same county)', 'ratio'],
        ['one county digest, cold (first of the process)', `${fmt(f.cold, 0)} ms`, '< 200 ms', '', ''],
        ['one county digest, warm p50 / max of 15', `${fmt(p50, 0)} / ${fmt(f.warm.at(-1)!, 0)} ms`, '< 200 ms', `progressRows ${fmt(f.progressRows, 0)} ms; per-village queries ${fmt(f.naive, 0)} ms`, `${fmt(f.progressRows / p50, 1)}× / ${fmt(f.naive / p50, 1)}× faster`],
        ['card from the data / chart PNG', `${fmt(f.card, 1)} ms / ${fmt(f.chart, 0)} ms`, '', `card ${f.cardBytes} B (Lark limit 30 KB)`, ''],
        ['whole province: every leader, data + card', `${fmt(f.province / 1000, 2)} s, ${f.digests} digests`, '', `${fmt(f.province / f.digests, 1)} ms each; largest card ${f.maxCard} B`, ''],
        ['peak RSS of the process after the digests (county + province)', `${fmt(mb(f.maxRss), 0)} MB`, '< 400 MB', `at start (node, tsx, echarts, resvg loaded): ${fmt(mb(f.rssStart), 0)} MB`, ''],
        ['peak RSS after chart and baselines too', `${fmt(mb(f.maxRssAll), 0)} MB`, '', 'progressRows loads the whole province', ''],
      ]),
    );
    console.log(
      `(the county: ${f.county.villages} villages, ${f.county.overdue} overdue stages in ${f.county.overdueVillages} villages, ${f.county.notReported} not reported, ${f.county.talks} talks. ` +
        'The province run loads each county once and keeps them for the 2 province-wide admins.)',
    );
  } finally {
    for (const x of ['', '-wal', '-shm']) rmSync(file + x, { force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv[2] === '--measure') {
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    process.stdout.write(JSON.stringify(measure(process.argv[3]!, JSON.parse(input) as ProvinceSummary)));
  } else {
    await benchDigest();
  }
}
