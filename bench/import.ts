/**
 * Province-size roster import (issue 14): a workbook as a provincial 换届办 would assemble it —
 * 30,000 villages and 60,000 people known by phone only (no open_ids), a title line above
 * each header, sheets called Sheet1/Sheet2 — imported with the real CLI (`import <file>`) in a
 * fresh process on an empty database. Reported: wall time and the process's true peak RSS
 * (VmHWM, written by the child at exit), against a baseline measured in the same run: the same
 * workbook only parsed by exceljs in a fresh process (what reading costs before anything of ours).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fmt, ROOT, table } from './lib.js';
import { benchStoreEnv, dropBenchDb, mergeSideBySide, STORE_LABEL, type BenchStore, type SideBySide } from './store.js';

const VILLAGES = 30_000;
const PEOPLE = 60_000;
const COUNTIES = 100;
const TOWNSHIPS_PER_COUNTY = 15;

/** Writes the workbook with exceljs's streaming writer (a province would not fit a template by hand either). */
async function writeProvinceWorkbook(file: string): Promise<void> {
  const ExcelJS = (await import('exceljs')).default;
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false, useStyles: false });
  const villages = wb.addWorksheet('Sheet1');
  villages.addRow(['某省2027年村（社区）“两委”换届村（社区）名单']).commit();
  villages.addRow(['序号', '县', '乡镇', '村（社区）名称', '类型', '计划选举日期']).commit();
  const vname = (i: number) => `第${i}${i % 7 === 0 ? '社区' : '村'}`;
  const township = (i: number) => Math.floor(i / (VILLAGES / (COUNTIES * TOWNSHIPS_PER_COUNTY)));
  const county = (t: number) => Math.floor(t / TOWNSHIPS_PER_COUNTY);
  for (let i = 0; i < VILLAGES; i++) {
    const t = township(i);
    villages.addRow([i + 1, `第${county(t)}县`, `第${t}镇`, vname(i), i % 7 === 0 ? '社区' : '村', '2027.3.15']).commit();
  }
  villages.commit();
  const people = wb.addWorksheet('Sheet2');
  people.addRow(['某省2027年村（社区）“两委”换届包联干部名单']).commit();
  people.addRow(['序号', '姓名', '手机号码', '身份', '县', '乡镇', '包联村（社区）']).commit();
  for (let i = 0; i < PEOPLE; i++) {
    // Two people per village: a 包村干部 and a 工作组 member; the phone stored as a number.
    const v = Math.floor(i / 2);
    const t = township(v);
    people.addRow([i + 1, `干部${i}`, 13_000_000_000 + i, i % 2 ? '工作组成员' : '包村干部', `第${county(t)}县`, `第${t}镇`, vname(v)]).commit();
  }
  people.commit();
  await wb.commit();
}

interface Run {
  ms: number;
  peakMb: number;
  code: number | null;
  stderr: string;
}

/** One fresh process; its peak RSS comes from /proc/self/status at exit (bench/rss-at-exit.mjs). */
function runMeasured(args: string[], env: Record<string, string>): Promise<Run> {
  const rssFile = join(tmpdir(), `hj-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', join(ROOT, 'bench/rss-at-exit.mjs'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env, HJ_BENCH_RSS_FILE: rssFile },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      let kb = NaN;
      try {
        kb = Number(readFileSync(rssFile, 'utf8'));
        rmSync(rssFile, { force: true });
      } catch {
        /* the child died before exit handlers ran: reported as NaN */
      }
      resolve({ ms, peakMb: kb / 1024, code, stderr });
    });
  });
}

export async function benchImport(stores: BenchStore[] = ['sqlite'], side: SideBySide = []): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hj-bench-import-'));
  try {
    const file = join(dir, '全省花名册.xlsx');
    const t0 = performance.now();
    await writeProvinceWorkbook(file);
    console.log(
      `\n## Province roster import — ${VILLAGES} villages, ${PEOPLE} people by phone only, ${fmt(statSync(file).size / 1048576, 1)} MB .xlsx (written in ${fmt((performance.now() - t0) / 1000, 1)} s)`,
    );
    const parse = await runMeasured(['bench/import-parse-only.ts', file], {});
    const rows: (string | number)[][] = [['measure', 'value', 'target', 'baseline: exceljs parse only (fresh process)', 'ratio']];
    for (const store of stores) {
      const dataDir = join(dir, `data-${store}`);
      const bench = { store, file: join(dataDir, 'huanjie.db') };
      dropBenchDb(bench);
      const r = await runMeasured(['src/cli/main.ts', 'import', file], { DATA_DIR: dataDir, ...benchStoreEnv(store, dataDir) });
      if (r.code !== 0) {
        console.log(`${STORE_LABEL[store]}: import exited with ${r.code}:\n${r.stderr.split('\n').slice(0, 12).join('\n')}`);
        rows.push([`import (${STORE_LABEL[store]})`, 'failed', '≤ 30 s, ≤ 400 MB', '', '']);
        continue;
      }
      rows.push([`import wall time (${STORE_LABEL[store]})`, `${fmt(r.ms / 1000, 1)} s`, '≤ 30 s', `${fmt(parse.ms / 1000, 1)} s`, `${fmt(r.ms / parse.ms, 2)}×`]);
      rows.push([`import peak RSS (${STORE_LABEL[store]})`, `${fmt(r.peakMb, 0)} MB`, '≤ 400 MB', `${fmt(parse.peakMb, 0)} MB`, `${fmt(r.peakMb / parse.peakMb, 2)}×`]);
      // The same file again: every row matched and compared, nothing written (a county re-sending its roster).
      const again = await runMeasured(['src/cli/main.ts', 'import', file], { DATA_DIR: dataDir, ...benchStoreEnv(store, dataDir) });
      if (again.code === 0) {
        rows.push([`re-import, all unchanged (${STORE_LABEL[store]})`, `${fmt(again.ms / 1000, 1)} s, ${fmt(again.peakMb, 0)} MB`, '≤ 30 s, ≤ 400 MB', '', '']);
      } else rows.push([`re-import (${STORE_LABEL[store]})`, `failed (${again.code})`, '', again.stderr.split('\n')[0] ?? '', '']);
      mergeSideBySide(side, store, [
        { measure: 'province import, wall / peak RSS', target: '≤ 30 s / ≤ 400 MB', value: `${fmt(r.ms / 1000, 1)} s / ${fmt(r.peakMb, 0)} MB` },
      ]);
      dropBenchDb(bench);
    }
    console.log(table(rows));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchImport();
