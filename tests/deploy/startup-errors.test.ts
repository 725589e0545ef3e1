import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT } from '../helpers/spawn.js';
import { onPostgres } from '../helpers/store.js';
import { tempDir } from '../helpers/test-runtime.js';
import { scaled } from '../helpers/time-scale.js';
import { ensureBuilt, run, serviceEnv } from './lib.js';

/**
 * Issue 16: what a county IT person sees when the compiled service cannot start — one line of
 * Chinese on stderr naming the variable or path and what to do, a non-zero exit, and nothing
 * written (no huanjie.db, no lock file left).
 */
const dirs: string[] = [];
const SERVER = join(ROOT, 'dist/server.js');
beforeAll(() => ensureBuilt(), scaled(200_000));
afterAll(() => {
  for (const d of dirs) {
    try {
      chmodSync(d, 0o700);
    } catch {
      /* gone */
    }
    rmSync(d, { recursive: true, force: true });
  }
});
const temp = () => {
  const d = tempDir('hj-starterr-');
  dirs.push(d);
  return d;
};

async function startFails(env: Record<string, string>, opts: { cwd?: string; uid?: number; gid?: number; cmd?: [string, string[]] } = {}) {
  const [cmd, args] = opts.cmd ?? [process.execPath, [SERVER]];
  const p = run(cmd, args, { env, cwd: opts.cwd, uid: opts.uid, gid: opts.gid });
  const guard = setTimeout(() => p.child.kill('SIGKILL'), scaled(60_000));
  const r = await p.exited;
  clearTimeout(guard);
  const lines = p.err().trim().split('\n').filter(Boolean);
  return { code: r.code, lines, err: p.err(), out: p.out() };
}

function oneChineseLine(r: { code: number | null; lines: string[]; err: string; out: string }): string {
  expect(r.code, r.err + r.out.slice(-1000)).not.toBe(0);
  expect(r.code).not.toBeNull();
  expect(r.lines, r.err).toHaveLength(1);
  expect(r.lines[0]).toMatch(/[\u4e00-\u9fff]/);
  expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  return r.lines[0]!;
}

describe.skipIf(onPostgres)('deploy: start-up errors a county IT person can act on', () => {
  it('PORT in use: names PORT and the port; DATA_DIR untouched', async () => {
    const blocker: Server = createServer();
    const port = await new Promise<number>((r) => blocker.listen(0, '127.0.0.1', () => r((blocker.address() as { port: number }).port)));
    try {
      const dataDir = join(temp(), 'data');
      const line = oneChineseLine(await startFails(serviceEnv(dataDir, port)));
      expect(line).toContain(`PORT=${port}`);
      expect(line).toContain('已被占用');
      expect(existsSync(dataDir), 'DATA_DIR not even created').toBe(false);
    } finally {
      blocker.close();
    }
  }, scaled(90_000));

  it('a bad .env value: names the variable and the value; nothing written', async () => {
    const cwd = temp();
    const dataDir = join(cwd, 'data');
    writeFileSync(join(cwd, '.env'), `DATA_DIR=${dataDir}\nDIGEST_TIME=8点半\n`);
    const line = oneChineseLine(await startFails({ PORT: String(await freePort()), HOST: '127.0.0.1' }, { cwd }));
    expect(line).toContain('DIGEST_TIME（当前为 "8点半"）');
    expect(line).toContain('.env');
    expect(existsSync(dataDir)).toBe(false);
  }, scaled(90_000));

  // As root (the test machine), permissions do not stop writes: the service runs as nobody (uid 65534)
  // there, against a root-owned directory, which is exactly the county server's mistake (data dir made
  // by root, service run by its own account). As an ordinary user, the directory is made read-only.
  it('DATA_DIR not writable (permission): names the path, suggests chown/chmod; nothing written', async () => {
    const parent = temp();
    chmodSync(parent, 0o755);
    const existing = join(parent, 'data');
    mkdirSync(existing);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chmodSync(existing, 0o755);
    else chmodSync(existing, 0o555);
    const ids = asRoot ? { uid: 65534, gid: 65534 } : {};
    for (const dataDir of [existing, join(existing, 'sub')]) {
      const line = oneChineseLine(await startFails(serviceEnv(dataDir, await freePort(), { HOME: '/tmp' }), { ...ids, cwd: '/tmp' }));
      expect(line).toContain(`DATA_DIR=${dataDir}`);
      expect(line).toContain('权限不足');
      expect(line).toMatch(/chown -R \S+ /);
      expect(line).toContain('chmod');
    }
    expect(readdirSync(existing)).toEqual([]);
  }, scaled(90_000));

  it('DATA_DIR under a regular file: says it is not a directory', async () => {
    const f = join(temp(), 'file');
    writeFileSync(f, 'x');
    const line = oneChineseLine(await startFails(serviceEnv(join(f, 'data'), await freePort())));
    expect(line).toContain(`DATA_DIR=${join(f, 'data')}`);
    expect(line).toContain('不是一个目录');
  }, scaled(90_000));

  // A full disk, for real: a 64 KiB tmpfs filled up, mounted in a mount namespace of the service's own
  // (unshare -m; needs root or CAP_SYS_ADMIN — skipped, saying so, where that is not available).
  const canMount = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs /mnt'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!canMount)('a full disk at start: names DATA_DIR; no database left', async () => {
    const dataDir = temp();
    chmodSync(dataDir, 0o755);
    const script = `mount -t tmpfs -o size=64k tmpfs "$1" && (head -c 1048576 /dev/zero > "$1/fill" 2>/dev/null; true) && exec "$2" "$3"`;
    const r = await startFails(serviceEnv(dataDir, await freePort()), { cmd: ['unshare', ['-m', 'sh', '-c', script, 'sh', dataDir, process.execPath, SERVER]] });
    const line = oneChineseLine(r);
    expect(line).toContain('磁盘已满');
    expect(line).toContain(`DATA_DIR=${dataDir}`);
  }, scaled(90_000));
  if (!canMount) process.stderr.write('startup-errors: full-disk case SKIPPED (unshare -m / mount tmpfs not permitted here)\n');

  it('PostgreSQL unreachable: names DATABASE_URL host and port, not the password', async () => {
    const dataDir = join(temp(), 'data');
    const pgPort = await freePort(); // nothing listens there
    const line = oneChineseLine(
      await startFails(serviceEnv(dataDir, await freePort(), { DATABASE_URL: `postgres://hj:pw-Zq81x@127.0.0.1:${pgPort}/huanjie` })),
    );
    expect(line).not.toContain('pw-Zq81x');
    // With pg-native installed: the connection refused; without it: that the driver is missing.
    expect(line).toMatch(new RegExp(`DATABASE_URL 指向 127\\.0\\.0\\.1:${pgPort}/huanjie|pg-native`));
    expect(existsSync(join(dataDir, 'huanjie.db'))).toBe(false);
  }, scaled(90_000));
});
