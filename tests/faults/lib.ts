import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { secretForms } from '../../src/logger.js';
import { freePort, ROOT } from '../helpers/spawn.js';
import { TEST_APP_ID, TEST_ENCRYPT_KEY, TEST_VERIFICATION_TOKEN } from '../helpers/test-runtime.js';
import type { FakeLark } from '../helpers/fake-lark.js';
import { inject } from 'vitest';

export interface AttackResult {
  attack: string;
  tries: number;
  failures: number;
  notes?: string;
}

export function formatSummary(rows: AttackResult[], ms: number): string {
  const head = ['attack', 'tries', 'failures', 'notes'];
  const cells = rows.map((r) => [r.attack, String(r.tries), String(r.failures), r.notes ?? '']);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => '| ' + c.map((x, i) => x.padEnd(w[i]!)).join(' | ') + ' |';
  return [
    `fault suite summary (${(ms / 1000).toFixed(1)} s)`,
    line(head),
    '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|',
    ...cells.map(line),
  ].join('\n');
}

/** Written by each test file; printed together by global-setup.ts. */
export function recordResults(dir: string, file: string, rows: AttackResult[]): void {
  writeFileSync(join(dir, `${file}.json`), JSON.stringify(rows));
}

export const BOT_OPEN_ID = 'ou_bot0000000000000000000000000001';

/** The app secret every fault-suite service runs with: distinctive, so the whole-run grep can find it. */
export const FAULT_APP_SECRET = 'fault-app-secret-Qz7Vw3Lm9Tx2';

/** The secrets global-setup.ts looks for in every service's output (files with their own secrets check those themselves). */
export const RUN_SECRETS: Record<string, string> = {
  LARK_APP_SECRET: FAULT_APP_SECRET,
  LARK_ENCRYPT_KEY: TEST_ENCRYPT_KEY,
  LARK_VERIFICATION_TOKEN: TEST_VERIFICATION_TOKEN,
};

/**
 * The attacks run on the real wall clock, and a seeded campaign's deadlines are fixed dates: with
 * the default 09:00 / 08:30 slots, whether a service started at a given hour sends that day's
 * reminders and digests depended on the date and time of the run (a started service catches up a
 * slot missed less than 12 hours ago). Unless a test asks for a schedule, its service gets slots
 * 12½ hours before its start — too old to catch up, and not due again for 11½ hours — and no quiet
 * hours that could move them, so no attack sees scheduled messages it did not ask for.
 */
export function dormantSchedule(now = Date.now()): Record<string, string> {
  const hhmm = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
    new Date(now - 12.5 * 3600_000),
  );
  return { TZ_NAME: 'Asia/Shanghai', REMINDER_TIME: hhmm, DIGEST_TIME: hhmm, QUIET_HOURS: '' };
}

export interface Service {
  child: ChildProcess;
  port: number;
  base: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The real service: `node --import tsx src/server.ts` (not the tsx wrapper
 * binary, so a SIGKILL hits the process that owns the database, not a parent
 * that relays signals).
 */
export async function startService(opts: {
  dataDir: string;
  fake: FakeLark;
  env?: Record<string, string>;
  port?: number;
  /** Extra node flags before the entry point (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
  /** Sees every chunk the child writes to stdout and stderr, from the first (output() keeps only the tail). */
  onOutput?: (chunk: string) => void;
}): Promise<Service> {
  const port = opts.port ?? (await freePort());
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: opts.dataDir,
      KNOWLEDGE_DIR: join(opts.dataDir, 'knowledge'),
      LARK_APP_ID: TEST_APP_ID,
      LARK_APP_SECRET: FAULT_APP_SECRET,
      LARK_DOMAIN: opts.fake.url,
      LARK_BOT_OPEN_ID: BOT_OPEN_ID,
      LARK_ENCRYPT_KEY: TEST_ENCRYPT_KEY,
      LARK_VERIFICATION_TOKEN: TEST_VERIFICATION_TOKEN,
      LOG_LEVEL: 'warn',
      ...dormantSchedule(),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // Every line any service prints in the run goes to one file per service: global-setup.ts
  // greps them all for the suite's secrets at the end (issue 8: "grep the whole run's output").
  const runLog = join(inject('faultResultsDir'), `service-${process.pid}-${port}-${Date.now()}.log`);
  const keep = (d: Buffer) => {
    appendFileSync(runLog, d);
    opts.onOutput?.(String(d));
    out += d;
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  const base = `http://127.0.0.1:${port}`;
  const svc: Service = { child, port, base, output: () => out, exited };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`service exited during start:\n${out}`);
    try {
      if ((await fetch(base + '/readyz')).status === 200) return svc;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`service not ready within 60 s:\n${out}`);
    }
    await sleep(100);
  }
}

export async function stopService(s: Service, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return s.exited;
  s.child.kill(signal);
  return s.exited;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

export { rng } from '../helpers/rng.js';

export const SEED = Number(process.env.FAULT_SEED ?? 8);

export interface SecretFinding {
  secret: string;
  source: string;
  form: string;
  excerpt: string;
}

/**
 * Issue 8 §4: no secret in any log line, outbox row or message. Searches each
 * named source (text, or lines) for every form of every secret; returns where
 * each was found, with the secret masked in the excerpt. Reusable by any
 * fault file: pass the child's whole output, the outbox rows, the fake's bodies.
 */
export function findSecrets(secrets: Record<string, string>, sources: Record<string, string | Iterable<string>>): SecretFinding[] {
  const found: SecretFinding[] = [];
  for (const [source, value] of Object.entries(sources)) {
    const text = typeof value === 'string' ? value : [...value].join('\n');
    for (const [name, secret] of Object.entries(secrets)) {
      if (!secret || secret.length < 6) continue;
      for (const form of secretForms(secret)) {
        const i = text.indexOf(form);
        if (i < 0) continue;
        const excerpt = text.slice(Math.max(0, i - 80), i + form.length + 80).split(form).join(`<${name}>`);
        found.push({ secret: name, source, form: form === secret ? 'plain' : 'encoded', excerpt });
        break;
      }
    }
  }
  return found;
}
