import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../helpers/spawn.js';
import { scaled } from '../helpers/time-scale.js';

/** The compiled service, built as `npm test` builds it (skipped when dist/ is up to date). */
export function ensureBuilt(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale'], { cwd: ROOT, encoding: 'utf8', timeout: scaled(180_000) });
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
}

export interface Proc {
  child: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Runs a command in its own process group (so the test can look for what it leaves behind). */
export function run(cmd: string, args: string[], opts: { env: Record<string, string>; cwd?: string; uid?: number; gid?: number }): Proc {
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    uid: opts.uid,
    gid: opts.gid,
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((r) =>
    child.on('close', (code, signal) => r({ code, signal, at: Date.now() })),
  );
  return { child, out: () => out, err: () => err, exited };
}

/** The service's environment: offline, SQLite in dataDir, listening on 127.0.0.1:port. */
export function serviceEnv(dataDir: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return { DATA_DIR: dataDir, KNOWLEDGE_DIR: join(dataDir, 'knowledge'), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...extra };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for /readyz 200; returns the service's PID from its start line. */
export async function waitReady(p: Proc, port: number, timeoutMs = scaled(120_000)): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`exited during start:\n${p.out().slice(-3000)}\n${p.err()}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.status === 200) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`not ready in ${timeoutMs} ms:\n${p.out().slice(-3000)}\n${p.err()}`);
    await sleep(100);
  }
  const m = /"pid":(\d+)[^\n]*换届助手已启动/.exec(p.out());
  if (!m) throw new Error('no start line with the pid:\n' + p.out().slice(-2000));
  return Number(m[1]);
}

/** Whether a listener can bind the port now (the service released it). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** Processes still alive in the process group, or mentioning the data dir or the port (cmdline or environment). */
export function leftovers(pgid: number, dataDir: string, port: number): string[] {
  const found: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      let env = '';
      try {
        env = readFileSync(`/proc/${name}/environ`, 'utf8');
      } catch {
        /* not ours to read */
      }
      const envs = env.split('\0');
      if (Number(fields[2]) === pgid || cmd.includes(dataDir) || (envs.includes(`DATA_DIR=${dataDir}`) && envs.includes(`PORT=${port}`))) found.push(`${name}: ${cmd}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

