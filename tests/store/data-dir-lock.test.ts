import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock, dataDirLockHolder, DataDirLockedError } from '../../src/store/data-dir-lock.js';
import { ROOT } from '../helpers/spawn.js';
import { tempDir } from '../helpers/test-runtime.js';
import { scaled } from '../helpers/time-scale.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const dir = () => {
  const d = tempDir('hj-lock-');
  dirs.push(d);
  return d;
};

/** A node process that takes the lock and says so on stdout, then waits. */
function holder(dataDir: string): Promise<ChildProcess> {
  const code = `import { acquireDataDirLock } from './src/store/data-dir-lock.ts'; acquireDataDirLock(${JSON.stringify(dataDir)}); console.log('held'); setInterval(() => {}, 1000);`;
  const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  return new Promise((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(new Error('holder did not start: ' + err)), scaled(30_000));
    c.stderr!.on('data', (d) => (err += d));
    c.stdout!.on('data', (d) => {
      if (String(d).includes('held')) {
        clearTimeout(t);
        resolve(c);
      }
    });
    c.on('exit', () => reject(new Error('holder exited: ' + err)));
  });
}

const exited = (c: ChildProcess) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.on('exit', r)));

describe('DATA_DIR lock', () => {
  it('is taken, refused while held in this process, released', () => {
    const d = dir();
    expect(dataDirLockHolder(d)).toBeNull();
    const lock = acquireDataDirLock(d);
    expect(readFileSync(join(d, 'huanjie.lock'), 'utf8').split('\n')[0]).toBe(String(process.pid));
    expect(dataDirLockHolder(d)).toBe(process.pid);
    expect(() => acquireDataDirLock(d)).toThrow(DataDirLockedError);
    lock.release();
    lock.release();
    expect(existsSync(join(d, 'huanjie.lock'))).toBe(false);
    expect(dataDirLockHolder(d)).toBeNull();
    acquireDataDirLock(d).release();
  });

  it('refuses while another live node process holds it, naming its PID; takes it over after kill -9', async () => {
    const d = dir();
    const c = await holder(d);
    expect(dataDirLockHolder(d)).toBe(c.pid);
    let err: unknown;
    try {
      acquireDataDirLock(d);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataDirLockedError);
    const msg = (err as DataDirLockedError).userMessage;
    expect(msg).toContain(`另一个换届助手进程（PID ${c.pid}）正在使用数据目录 ${d}；同一数据目录只能运行一个服务`);
    expect((err as DataDirLockedError).holderPid).toBe(c.pid);
    c.kill('SIGKILL');
    await exited(c);
    // The lock file is still there (kill -9 runs no exit handler) but its owner is gone.
    expect(existsSync(join(d, 'huanjie.lock'))).toBe(true);
    expect(dataDirLockHolder(d)).toBeNull();
    const lock = acquireDataDirLock(d);
    expect(dataDirLockHolder(d)).toBe(process.pid);
    lock.release();
  });

  it('is released when the holder exits (the exit handler removes the file)', async () => {
    const d = dir();
    const code = `import { acquireDataDirLock } from './src/store/data-dir-lock.ts'; acquireDataDirLock(${JSON.stringify(d)}); process.exit(0);`;
    const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT, stdio: 'ignore' });
    children.push(c);
    const code_ = await new Promise((r) => c.on('exit', r));
    expect(code_).toBe(0);
    expect(existsSync(join(d, 'huanjie.lock'))).toBe(false);
  });

  it('treats a PID that is not a node process, a PID that is not running, and our own PID from a past life as stale', async () => {
    const d = dir();
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(sleeper);
    await new Promise((r) => sleeper.once('spawn', r));
    writeFileSync(join(d, 'huanjie.lock'), `${sleeper.pid}\n`);
    expect(dataDirLockHolder(d)).toBeNull();
    acquireDataDirLock(d).release();

    writeFileSync(join(d, 'huanjie.lock'), `${2 ** 22 + 17}\n`); // above pid_max's usual range: not running
    expect(dataDirLockHolder(d)).toBeNull();
    acquireDataDirLock(d).release();

    // A container restarted on the same volume: the old lock names our PID, written by someone else.
    writeFileSync(join(d, 'huanjie.lock'), `${process.pid}\nstart 1\n`);
    expect(dataDirLockHolder(d)).toBeNull();
    acquireDataDirLock(d).release();
  });

  it('a live node process with the same PID but another start time is not the holder', async () => {
    const d = dir();
    const c = await holder(d);
    const text = readFileSync(join(d, 'huanjie.lock'), 'utf8');
    expect(text).toMatch(/^\d+\nboot \S+\nstart \d+\n$/);
    c.kill('SIGKILL');
    await exited(c);
    // Same shape, a live node PID (ours) but not held here and another start time.
    writeFileSync(join(d, 'huanjie.lock'), text.replace(/^\d+/, String(process.pid)).replace(/start \d+/, 'start 1'));
    expect(dataDirLockHolder(d)).toBeNull();
  });

  it('takes over an empty lock file once it is old (a process killed between creating and writing it)', () => {
    const d = dir();
    const f = join(d, 'huanjie.lock');
    writeFileSync(f, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(f, old, old);
    expect(dataDirLockHolder(d)).toBeNull();
    acquireDataDirLock(d).release();
  });
});
