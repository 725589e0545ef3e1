#!/usr/bin/env node
// npm run release: builds release/huanjie-bot-<version>-linux-x64.tar.gz for an offline server.
//
// The tarball holds one folder, huanjie-bot-<version>/, that runs with nothing but Node 20 on
// Linux x64 (glibc): compiled dist/, production node_modules (native modules as built here),
// the bundled knowledge pack, .env.example, deploy/ (systemd unit, nginx example), docs/deploy.md,
// bin/huanjie (CLI) and bin/huanjie-server, and BUILD-INFO. No network is used: the build runs on
// a copy of the source, node_modules is copied from this checkout and pruned with
// `npm prune --omit=dev --offline --ignore-scripts`, and the result is checked for dev packages.
//
// Entries are sorted, owned by 0:0 and stamped with SOURCE_DATE_EPOCH (default: the commit time
// of a clean checkout), gzip without a timestamp — the same tree gives the same bytes.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, lstatSync, realpathSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, rmdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url)).replace(/\/$/, '');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const NAME = `huanjie-bot-${pkg.version}`;
const OUT_DIR = join(ROOT, 'release');
const TARBALL = join(OUT_DIR, `${NAME}-linux-x64.tar.gz`);
const STAGE = join(OUT_DIR, '.stage');
const SRC_COPY = join(STAGE, 'src-tree');
const TOP = join(STAGE, 'pkg', NAME);

function fail(msg) {
  process.stderr.write(`release: ${msg}\n`);
  process.exit(1);
}
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: opts.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit', encoding: 'utf8', ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0 && !opts.allowFail) fail(`${cmd} ${args.join(' ')} exited with ${r.status}${opts.capture ? `\n${r.stderr}` : ''}`);
  return r;
}
function log(msg) {
  process.stdout.write(`release: ${msg}\n`);
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  fail(`native modules (better-sqlite3, libpq) in node_modules are built for this machine (${process.platform}-${process.arch}); run the release on Linux x64`);
}
const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
if (!glibc) fail('this Node is not linked against glibc (musl/Alpine?): the release is for glibc systems');
if (!existsSync(join(ROOT, 'node_modules'))) fail('node_modules is missing: run npm ci first (the release itself never uses the network)');

// ---- 1. the source, as in the working tree (tracked + untracked, minus ignored) -------------
const git = (args) => spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' });
const lsFiles = git(['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
let files;
let commit = 'unknown';
let dirty = false;
if (lsFiles.status === 0) {
  files = lsFiles.stdout
    .split('\0')
    .filter((f) => f && existsSync(join(ROOT, f)) && !f.startsWith('release/') && f !== 'node_modules' && !f.startsWith('node_modules/'));
  commit = git(['rev-parse', 'HEAD']).stdout.trim() || 'unknown';
  dirty = git(['status', '--porcelain', '--untracked-files=no']).stdout.trim() !== '';
} else {
  // Not a git checkout (a source tarball): the folders the build and the release read.
  files = [];
  const walk = (rel) => {
    for (const n of readdirSync(join(ROOT, rel))) {
      const r = rel ? `${rel}/${n}` : n;
      if (statSync(join(ROOT, r)).isDirectory()) walk(r);
      else files.push(r);
    }
  };
  for (const d of ['src', 'scripts', 'knowledge', 'deploy', 'bin', 'docs']) if (existsSync(join(ROOT, d))) walk(d);
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', '.env.example']) files.push(f);
}
for (const need of ['bin/huanjie', 'bin/huanjie-server', 'deploy/huanjie-bot.service', 'deploy/nginx-huanjie-bot.conf', 'docs/deploy.md', 'knowledge', 'package-lock.json']) {
  if (!files.some((f) => f === need || f.startsWith(need + '/'))) fail(`${need} is missing from the source`);
}

rmSync(STAGE, { recursive: true, force: true });
mkdirSync(SRC_COPY, { recursive: true });
for (const f of files) {
  mkdirSync(dirname(join(SRC_COPY, f)), { recursive: true });
  cpSync(join(ROOT, f), join(SRC_COPY, f), { preserveTimestamps: true });
}

// ---- 2. build (npm run build's script) in the copy -------------------------------------------
// The copy borrows this checkout's node_modules (the compiler) through a symlink, so a build
// running at the same time in the checkout (tests) and this one never write the same dist/.
symlinkSync(join(ROOT, 'node_modules'), join(SRC_COPY, 'node_modules'));
log('building (scripts/build.mjs)…');
if (!existsSync(join(SRC_COPY, 'scripts/build.mjs'))) fail('scripts/build.mjs (npm run build) is missing');
run(process.execPath, ['scripts/build.mjs'], { cwd: SRC_COPY });
if (!existsSync(join(SRC_COPY, 'dist/server.js')) || !existsSync(join(SRC_COPY, 'dist/cli/main.js'))) {
  fail('the build did not produce dist/server.js and dist/cli/main.js');
}

// ---- 3. the release folder --------------------------------------------------------------------
mkdirSync(TOP, { recursive: true });
for (const p of ['dist', 'knowledge', 'deploy', 'bin', 'package.json', 'package-lock.json', '.env.example']) {
  cpSync(join(SRC_COPY, p), join(TOP, p), { recursive: true });
}
mkdirSync(join(TOP, 'docs'));
cpSync(join(SRC_COPY, 'docs/deploy.md'), join(TOP, 'docs/deploy.md'));
for (const b of readdirSync(join(TOP, 'bin'))) chmodSync(join(TOP, 'bin', b), 0o755);
// The build's freshness stamp (for `npm start` in a checkout) is a wall-clock time: not shipped.
rmSync(join(TOP, 'dist/.build-stamp'), { force: true });
// The release has no sources, tsc or tsx: its scripts run the compiled code only (`npm start`, `npm run cli`
// still work where an IT person has npm; bin/ needs none).
{
  const relPkg = JSON.parse(readFileSync(join(TOP, 'package.json'), 'utf8'));
  relPkg.scripts = { start: 'exec node dist/server.js', cli: 'node dist/cli/main.js' };
  writeFileSync(join(TOP, 'package.json'), JSON.stringify(relPkg, null, 2) + '\n');
}

// ---- 4. production node_modules, offline -----------------------------------------------------
log('copying node_modules and pruning devDependencies (offline)…');
// realpath: a node_modules that is itself a symlink must be copied, never linked (prune would empty the original).
cpSync(realpathSync(join(ROOT, 'node_modules')), join(TOP, 'node_modules'), { recursive: true, verbatimSymlinks: true });
if (lstatSync(join(TOP, 'node_modules')).isSymbolicLink()) fail('node_modules was copied as a link');
const prune = run(
  'npm',
  ['prune', '--omit=dev', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-update-notifier'],
  { cwd: TOP, capture: true, env: { ...process.env, npm_config_registry: 'http://127.0.0.1:9/', npm_config_offline: 'true' } },
);
log(`npm prune: ${prune.stdout.trim().split('\n').pop() ?? ''}`);
// What npm leaves behind: empty scope folders, tool caches.
for (const n of readdirSync(join(TOP, 'node_modules'))) {
  const p = join(TOP, 'node_modules', n);
  if (n.startsWith('.') && n !== '.bin' && n !== '.package-lock.json') rmSync(p, { recursive: true, force: true });
  else if (n.startsWith('@') && statSync(p).isDirectory() && readdirSync(p).length === 0) rmdirSync(p);
}

// Every installed package must be a non-dev entry of the lockfile, and no devDependency may remain.
const lock = JSON.parse(readFileSync(join(TOP, 'package-lock.json'), 'utf8')).packages ?? {};
const installed = [];
const walk = (dir) => {
  if (!existsSync(dir)) return;
  for (const n of readdirSync(dir)) {
    if (n.startsWith('.')) continue;
    const p = join(dir, n);
    if (n.startsWith('@')) walk(p);
    else {
      installed.push(relative(TOP, p));
      walk(join(p, 'node_modules'));
    }
  }
};
walk(join(TOP, 'node_modules'));
const devLeft = installed.filter((p) => !lock[p] || lock[p].dev);
// (A devDependency may stay when a production package needs it too — ws and protobufjs for the
// Lark SDK's long connection — the lockfile then marks it non-dev.) The build tools never may:
for (const d of ['tsx', 'typescript', 'vitest', 'playwright-core', 'esbuild']) {
  if (existsSync(join(TOP, 'node_modules', d)) && !devLeft.includes(`node_modules/${d}`)) devLeft.push(`node_modules/${d}`);
}
if (devLeft.length) fail(`dev packages left after pruning: ${devLeft.join(', ')}`);
for (const native of ['better-sqlite3/build/Release/better_sqlite3.node']) {
  if (!existsSync(join(TOP, 'node_modules', native))) fail(`native module missing: node_modules/${native}`);
}
const hasPg = existsSync(join(TOP, 'node_modules/pg-native')) && existsSync(join(TOP, 'node_modules/libpq/build/Release/addon.node'));

// The oldest glibc the native modules accept: the highest GLIBC_x.y symbol version they reference.
let glibcMin = '2.17';
const cmpVer = (a, b) => a.split('.').map(Number).reduce((d, x, i) => d || x - (Number(b.split('.')[i]) || 0), 0);
for (const p of installed) {
  const scan = (dir) => {
    for (const n of readdirSync(dir, { withFileTypes: true })) {
      const f = join(dir, n.name);
      if (n.isDirectory() && n.name !== 'node_modules') scan(f);
      else if (n.isFile() && n.name.endsWith('.node')) {
        for (const m of readFileSync(f).toString('latin1').matchAll(/GLIBC_(\d+\.\d+(?:\.\d+)?)/g)) {
          if (cmpVer(m[1], glibcMin) > 0) glibcMin = m[1];
        }
      }
    }
  };
  scan(join(TOP, p));
}

// ---- 5. BUILD-INFO --------------------------------------------------------------------------------
const epoch = process.env.SOURCE_DATE_EPOCH
  ? Number(process.env.SOURCE_DATE_EPOCH)
  : !dirty && commit !== 'unknown'
    ? Number(git(['log', '-1', '--format=%ct']).stdout.trim())
    : Math.floor(Date.now() / 1000);
const info = [
  `name=huanjie-bot`,
  `version=${pkg.version}`,
  `commit=${commit}${dirty ? '-dirty' : ''}`,
  `built_at=${new Date(epoch * 1000).toISOString()}`,
  `node=${process.version}`,
  `node_abi=${process.versions.modules}`,
  `platform=linux-x64-glibc${glibc}`,
  `glibc_min=${glibcMin}`,
  `engines=${pkg.engines?.node ?? ''}`,
  `pg_native=${hasPg ? 'yes' : 'no'}`,
  `packages=${installed.length}`,
  '',
].join('\n');
writeFileSync(join(TOP, 'BUILD-INFO'), info);
writeFileSync(join(TOP, 'VERSION'), `${pkg.version}\n`);

// ---- 6. the tarball -------------------------------------------------------------------------------
mkdirSync(dirname(TARBALL), { recursive: true });
rmSync(TARBALL, { force: true });
log('packing…');
run('sh', [
  '-c',
  'tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$1" --mode="u+rw,go+r,go-w" -C "$2" -cf - "$3" | gzip -n > "$4"',
  'tar',
  String(epoch),
  join(STAGE, 'pkg'),
  NAME,
  TARBALL,
]);
const unpacked = run('du', ['-sb', TOP], { capture: true }).stdout.split(/\s/)[0];
rmSync(STAGE, { recursive: true, force: true });

const size = statSync(TARBALL).size;
const mb = (n) => (Number(n) / 1024 / 1024).toFixed(1);
log(`commit ${commit.slice(0, 12)}${dirty ? ' (uncommitted changes)' : ''}, node ${process.version}, ${installed.length} packages, pg-native ${hasPg ? 'yes' : 'no'}, needs glibc >= ${glibcMin}`);
process.stdout.write(`${TARBALL}\t${size} bytes (${mb(size)} MB; unpacked ${mb(unpacked)} MB)\n`);
