#!/usr/bin/env node
// The production build (issue 16): src/ → dist/ as plain JavaScript, run with `node dist/server.js`.
//
//   node scripts/build.mjs             compile (tsc -p tsconfig.build.json) and copy the files src/
//                                      reads at run time (every non-.ts file: web assets, SQL migrations,
//                                      the lexicon, the chart worker) to the same relative paths
//   node scripts/build.mjs --if-stale  the same, unless dist/ was built after the last change to src/,
//                                      tsconfig*.json or this script (npm's prestart: a fresh install
//                                      builds once, restarts are instant)
//
// The new tree is built beside dist/ and swapped in only when complete: a failed build (a type error)
// prints tsc's output, exits non-zero and leaves the previous dist/ as it was.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.build-stamp');
const ifStale = process.argv.includes('--if-stale');
const started = Date.now();

/** Every file and folder under dir (folders too: deleting a file changes its folder's mtime). */
function walk(dir, out = []) {
  out.push(dir);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function newestInput() {
  const inputs = [...walk(SRC), join(ROOT, 'scripts', 'build.mjs'), join(ROOT, 'package.json')];
  for (const f of readdirSync(ROOT)) if (/^tsconfig.*\.json$/.test(f)) inputs.push(join(ROOT, f));
  let newest = 0;
  for (const f of inputs) newest = Math.max(newest, statSync(f).mtimeMs);
  return newest;
}

function fail(message, detail) {
  if (detail) process.stderr.write(detail.endsWith('\n') ? detail : detail + '\n');
  process.stderr.write(`构建失败：${message}\n`);
  process.exit(1);
}

const tscBin = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

if (ifStale && existsSync(STAMP)) {
  if (statSync(STAMP).mtimeMs >= newestInput()) process.exit(0);
  if (!existsSync(tscBin)) {
    // A production install without devDependencies: run what was built, and say it may be old.
    process.stderr.write('警告：src/ 比 dist/ 新，但没有安装 TypeScript（devDependencies），无法重新构建；继续使用现有的 dist/。\n');
    process.exit(0);
  }
}
if (!existsSync(tscBin)) {
  fail('没有找到 TypeScript 编译器（node_modules/typescript）。请在项目目录运行 npm install（不要加 --omit=dev）后再执行 npm run build。');
}

const out = `${DIST}.build-${process.pid}`;
rmSync(out, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [tscBin, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out, '--pretty', 'false'], {
  cwd: ROOT,
  encoding: 'utf8',
});
if (tsc.error || tsc.status !== 0) {
  rmSync(out, { recursive: true, force: true });
  fail(
    tsc.error ? `无法运行 tsc：${tsc.error.message}` : `类型检查未通过（tsc 退出码 ${tsc.status}），dist/ 保持不变。`,
    `${tsc.stdout ?? ''}${tsc.stderr ?? ''}`,
  );
}

// What src/ reads at run time beside its modules, found by what it is rather than by a list.
let assets = 0;
for (const f of walk(SRC)) {
  if (f === SRC || statSync(f).isDirectory() || f.endsWith('.ts')) continue;
  const to = join(out, relative(SRC, f));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(f, to);
  assets++;
}
for (const must of ['server.js', 'cli/main.js', 'charts/render-worker.mjs', 'charts/render.js', 'knowledge/lexicon.tsv', 'store/migrations', 'store/pg/migrations', 'web/assets']) {
  if (!existsSync(join(out, must))) {
    rmSync(out, { recursive: true, force: true });
    fail(`构建结果缺少 ${must}。`);
  }
}
const modules = walk(out).filter((f) => f.endsWith('.js')).length;
writeFileSync(join(out, '.build-stamp'), `${new Date(started).toISOString()}\n`);
// Dated when the build began: a source saved while tsc ran is newer, and the next --if-stale rebuilds.
utimesSync(join(out, '.build-stamp'), new Date(started), new Date(started));

// Swap the finished tree in.
const old = `${DIST}.old-${process.pid}`;
if (existsSync(DIST)) renameSync(DIST, old);
renameSync(out, DIST);
rmSync(old, { recursive: true, force: true });
process.stdout.write(`构建完成：dist/（${modules} 个模块，${assets} 个资源文件，${((Date.now() - started) / 1000).toFixed(1)} 秒）\n`);
