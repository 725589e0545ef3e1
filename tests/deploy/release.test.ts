/**
 * Issue 16: the release tarball runs on an offline server with nothing but Node.
 *
 * Builds it once with `node scripts/release.mjs`, unpacks it with tar into an empty folder, checks
 * that no build tool or other dev package came along, then runs the scenario of docs/deploy.md
 * with the release's own wrappers: start bin/huanjie-server (settings from an env file, like
 * systemd's EnvironmentFile), wait for /readyz, generate an import template and import a roster
 * with bin/huanjie, ask a policy question, SIGTERM → exit 0.
 *
 * The scenario runs under a PATH holding only node, sh and readlink (no npm, no npx, no tsx), with
 * registries and proxies pointed at a dead port, and — where `unshare -n` works (root on Linux) —
 * inside a fresh network namespace with only loopback up, so any attempt to fetch from a registry
 * or the internet fails. A small driver script runs inside the namespace (the test process cannot
 * reach a server there) and prints what it saw as JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/spawn.js';
import { scaled } from '../helpers/time-scale.js';

const PORT = 39210;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const NAME = `huanjie-bot-${pkg.version}`;
const BUILD_TOOLS = ['tsx', 'typescript', 'vitest', 'playwright-core', 'esbuild', '@esbuild', 'vite', '@vitest'];

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timeout: ${cmd} ${args.join(' ')}\n${stdout}\n${stderr}`));
    }, opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs inside the (network-less) namespace: the release scenario, reported as one JSON line. */
const DRIVER = String.raw`
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
const { rel, port, timeoutMs, work, fixture } = JSON.parse(process.argv[2]);
const out = {};
const t0 = Date.now();
const srv = spawn(rel + '/bin/huanjie-server', [], { cwd: work, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
let log = '';
srv.stdout.on('data', (d) => (log += d));
srv.stderr.on('data', (d) => (log += d));
const exited = new Promise((r) => srv.on('exit', (code, signal) => r({ code, signal })));
let gone = false;
exited.then(() => (gone = true));
while (!gone && Date.now() - t0 < timeoutMs) {
  try {
    const r = await fetch('http://127.0.0.1:' + port + '/readyz');
    out.ready = { status: r.status, body: await r.json() };
    if (r.status === 200) break;
  } catch {}
  await new Promise((r) => setTimeout(r, 100));
}
out.readyMs = Date.now() - t0;
const cli = (args) => {
  const r = spawnSync(rel + '/bin/huanjie', args, { cwd: work, env: process.env, encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
out.npm = spawnSync('sh', ['-c', 'command -v npm || command -v npx || command -v tsx'], { env: process.env, encoding: 'utf8' });
out.npm = { code: out.npm.status, stdout: out.npm.stdout };
try {
  await fetch('https://registry.npmjs.org/');
  out.internet = true;
} catch {
  out.internet = false;
}
out.template = cli(['import', 'template', work + '/模板.xlsx']);
out.templateExists = existsSync(work + '/模板.xlsx');
out.import = cli(['import', fixture]);
out.ask = cli(['kb', 'ask', '五必谈是哪五类？', '--json']);
out.people = cli(['people', '--json']);
if (!gone) {
  const r = await fetch('http://127.0.0.1:' + port + '/healthz');
  out.healthz = r.status;
  srv.kill('SIGTERM');
}
out.exit = await exited;
out.log = log;
console.log(JSON.stringify(out));
`;

const which = (cmd: string): string => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();

/** `unshare -n` works here (root on Linux) and `ip` can bring loopback up inside: their paths. */
function netnsTools(): { unshare: string; ip: string } | null {
  if (process.platform !== 'linux') return null;
  const unshare = which('unshare');
  const ip = which('ip');
  if (!unshare || !ip) return null;
  return spawnSync(unshare, ['-n', ip, 'link', 'set', 'lo', 'up'], { stdio: 'ignore' }).status === 0 ? { unshare, ip } : null;
}

describe('release tarball (npm run release)', () => {
  let tmp = '';
  let tarball = '';
  let rel = '';
  let releaseOut = '';

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'hj-release-'));
    const r = await run(process.execPath, ['scripts/release.mjs'], { timeoutMs: scaled(15 * 60_000) });
    releaseOut = r.stdout + r.stderr;
    expect(r.code, releaseOut).toBe(0);
    const last = r.stdout.trim().split('\n').pop() ?? '';
    tarball = last.split('\t')[0] ?? '';
    expect(tarball).toBe(join(ROOT, 'release', `${NAME}-linux-x64.tar.gz`));
    mkdirSync(join(tmp, 'opt'));
    const x = await run('tar', ['-xzf', tarball, '-C', join(tmp, 'opt')], { timeoutMs: scaled(5 * 60_000) });
    expect(x.code, x.stderr).toBe(0);
    rel = join(tmp, 'opt', NAME);
  }, scaled(25 * 60_000));

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('prints the tarball path and size; one top folder with everything an offline server needs', () => {
    expect(releaseOut).toMatch(/\t\d+ bytes \(\d+\.\d MB; unpacked \d+\.\d MB\)/);
    expect(readdirSync(join(tmp, 'opt'))).toEqual([NAME]);
    for (const p of [
      'dist/server.js',
      'dist/cli/main.js',
      'package.json',
      'package-lock.json',
      '.env.example',
      'deploy/huanjie-bot.service',
      'deploy/nginx-huanjie-bot.conf',
      'docs/deploy.md',
      'bin/huanjie',
      'bin/huanjie-server',
      'BUILD-INFO',
      'VERSION',
      'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
    ]) {
      expect(existsSync(join(rel, p)), p).toBe(true);
    }
    expect(readdirSync(join(rel, 'knowledge')).length).toBeGreaterThan(0);
    for (const b of ['bin/huanjie', 'bin/huanjie-server']) expect(statSync(join(rel, b)).mode & 0o111, b).not.toBe(0);
    const info = readFileSync(join(rel, 'BUILD-INFO'), 'utf8');
    expect(info).toContain(`version=${pkg.version}\n`);
    expect(info).toMatch(/^commit=[0-9a-f]{40}(-dirty)?$/m);
    expect(info).toContain(`node=${process.version}\n`);
    expect(info).toMatch(/^built_at=\d{4}-\d\d-\d\dT/m);
    expect(info).toMatch(/^glibc_min=2\.\d+/m);
    // No source or test code travels.
    expect(existsSync(join(rel, 'src'))).toBe(false);
    expect(existsSync(join(rel, 'tests'))).toBe(false);
  });

  it('holds production packages only: no build tool, nothing the lockfile marks dev', () => {
    for (const t of BUILD_TOOLS) expect(existsSync(join(rel, 'node_modules', t)), t).toBe(false);
    const lock = (JSON.parse(readFileSync(join(rel, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }).packages;
    const installed: string[] = [];
    const walk = (dir: string, prefix: string): void => {
      if (!existsSync(dir)) return;
      for (const n of readdirSync(dir)) {
        if (n.startsWith('.')) continue;
        if (n.startsWith('@')) {
          walk(join(dir, n), `${prefix}${n}/`);
          continue;
        }
        const key = `${prefix}${n}`;
        installed.push(key);
        walk(join(dir, n, 'node_modules'), `${key}/node_modules/`);
      }
    };
    walk(join(rel, 'node_modules'), 'node_modules/');
    expect(installed.length).toBeGreaterThan(50);
    expect(installed.filter((p) => !lock[p] || lock[p]!.dev)).toEqual([]);
    // And the production dependencies are all there.
    const deps = Object.keys((JSON.parse(readFileSync(join(rel, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
    for (const d of deps) expect(installed, d).toContain(`node_modules/${d}`);
  });

  it('runs offline with only node on PATH: ready, import, policy answer, SIGTERM → exit 0', async () => {
    // Module resolution walks up from the release folder: nothing above it may lend packages.
    for (const up of ['/node_modules', join(tmpdir(), 'node_modules'), join(tmp, 'node_modules')]) expect(existsSync(up), up).toBe(false);
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const readlink = which('readlink');
    if (readlink) symlinkSync(readlink, join(bin, 'readlink'));
    const work = join(tmp, 'work');
    mkdirSync(work);
    const fixture = join(work, 'county.xlsx');
    copyFileSync(join(ROOT, 'tests/fixtures/import/county-openpyxl.xlsx'), fixture);
    const envFile = join(tmp, 'huanjie-bot.env');
    writeFileSync(envFile, [`PORT=${PORT}`, 'HOST=127.0.0.1', `DATA_DIR=${join(tmp, 'data')}`, 'LOG_LEVEL=info', 'BACKUP_SCHEDULE=0 2 * * *', ''].join('\n'));
    const driver = join(tmp, 'driver.mjs');
    writeFileSync(driver, DRIVER);
    const dead = 'http://127.0.0.1:9';
    const env: NodeJS.ProcessEnv = {
      PATH: bin,
      HOME: work,
      HUANJIE_ENV_FILE: envFile,
      npm_config_registry: `${dead}/`,
      npm_config_offline: 'true',
      HTTP_PROXY: dead,
      HTTPS_PROXY: dead,
      http_proxy: dead,
      https_proxy: dead,
      NO_PROXY: '',
    };
    const args = [driver, JSON.stringify({ rel, port: PORT, timeoutMs: scaled(120_000), work, fixture })];
    const netns = netnsTools();
    console.log(netns ? 'release run: fresh network namespace (unshare -n, loopback only)' : 'release run: no unshare -n here; dead proxies and registry only');
    const r = netns
      ? await run(netns.unshare, ['-n', '/bin/sh', '-c', `${netns.ip} link set lo up && exec "$0" "$@"`, join(bin, 'node'), ...args], { cwd: work, env, timeoutMs: scaled(10 * 60_000) })
      : await run(join(bin, 'node'), args, { cwd: work, env, timeoutMs: scaled(10 * 60_000) });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, any>;
    const log = String(out.log);
    expect(out.npm.code, `npm/npx/tsx must not be on PATH: ${out.npm.stdout}`).not.toBe(0);
    if (netns) expect(out.internet).toBe(false);
    expect(out.ready?.status, log).toBe(200);
    expect(out.ready.body.status).toBe('ready');
    expect(out.healthz).toBe(200);
    expect(out.template.code, out.template.stderr).toBe(0);
    expect(out.templateExists).toBe(true);
    expect(out.import.code, out.import.stderr + out.import.stdout).toBe(0);
    expect(out.import.stdout).toContain('导入完成');
    expect(out.people.stdout.trim().split('\n').length).toBe(5);
    expect(out.ask.code, out.ask.stderr).toBe(0);
    const answer = JSON.parse(out.ask.stdout) as { answer: string; abstained: boolean; citations: { doc: string; text: string }[] };
    expect(answer.abstained).toBe(false);
    expect(answer.answer).toContain('五必谈');
    expect(answer.citations.some((c) => c.doc === '换届工作指引.md')).toBe(true);
    // The service read the env file (port, data dir) and stopped cleanly on SIGTERM.
    expect(log).toContain(`"port":${PORT}`);
    expect(existsSync(join(tmp, 'data', 'huanjie.db'))).toBe(true);
    expect(out.exit, log).toEqual({ code: 0, signal: null });
    console.log(`release run: ready after ${out.readyMs} ms`);
  });
});
