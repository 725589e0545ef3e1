import { spawn, type ChildProcess } from 'node:child_process';
import { scaled } from './time-scale.js';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { storeEnv } from './store.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = ROOT + 'node_modules/.bin/tsx';

/** Runs a TypeScript entry point with tsx, feeding stdin, and collects its output. */
export function runTs(
  entry: string,
  args: string[],
  opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [entry, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...(opts.env?.DATA_DIR ? storeEnv(opts.env.DATA_DIR) : {}), ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timeout running ${entry} ${args.join(' ')}\n${stderr}`));
    }, scaled(opts.timeoutMs ?? 60_000));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export function startTs(entry: string, env: Record<string, string>): ChildProcess {
  return spawn(TSX, [entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...(env.DATA_DIR ? storeEnv(env.DATA_DIR) : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}
