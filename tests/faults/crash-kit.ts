import { spawn, type ChildProcess } from 'node:child_process';
import { openDb, type SqliteDb } from '../../src/store/db.js';
import { messageEvent } from '../helpers/events.js';
import { larkRequest } from '../helpers/lark-sign.js';
import { ROOT } from '../helpers/spawn.js';
import { TEST_ENCRYPT_KEY } from '../helpers/test-runtime.js';
import type { SentMessage } from '../helpers/fake-lark.js';

/**
 * Shared by the crash and operations attacks (crash-during-import,
 * crash-during-checkins, operations): posting signed events as Lark does,
 * running the real CLI as its own process, and looking at the database a
 * killed process left behind.
 */
export type PostResult = { status: number; body: unknown } | { status: 0; error: string };

/** POSTs an event signed (and by default encrypted) as Lark does. status 0 = no HTTP answer (connection lost). */
export async function postEvent(base: string, payload: unknown, opts: { encrypt?: boolean; timeoutMs?: number } = {}): Promise<PostResult> {
  const r = larkRequest(payload, { encryptKey: TEST_ENCRYPT_KEY, encrypt: opts.encrypt ?? true });
  try {
    const res = await fetch(base + '/lark/events', { method: 'POST', body: r.body, headers: r.headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body };
  } catch (e) {
    return { status: 0, error: (e as Error).message };
  }
}

/** A file message (a workbook sent to the bot in a p2p chat). */
export function fileMessageEvent(o: { openId: string; messageId: string; eventId?: string; chatId?: string; fileKey: string; fileName: string }) {
  const ev = messageEvent({ text: 'x', openId: o.openId, messageId: o.messageId, eventId: o.eventId, chatId: o.chatId });
  const m = ev.event.message as Record<string, unknown>;
  m.message_type = 'file';
  m.content = JSON.stringify({ file_key: o.fileKey, file_name: o.fileName });
  return ev;
}

/**
 * Opens what a killed process left (read-write, as the restarted service
 * would: WAL recovery runs), checks it, and hands it to `fn`. Closing the last
 * connection checkpoints; the restarted service sees the same data.
 */
export function inspectDb<T>(file: string, fn: (db: SqliteDb, integrity: string) => T): T {
  const db = openDb(file, { migrate: false });
  try {
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    return fn(db, integrity);
  } finally {
    db.close();
  }
}

/** The real CLI as its own process (`node --import tsx src/cli/main.ts …`, no wrapper), so a SIGKILL hits the process holding the database. */
export function startCli(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => {
      // Let the pipes drain.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    }),
  );
  return { child, done };
}

/** The text a person reads in a sent message (a text message's text, or the card JSON). */
export function sentText(m: SentMessage): string {
  return m.msg_type === 'text' ? String(m.content.text) : JSON.stringify(m.content);
}

/** Runs `task` over `items`, at most `width` at once. */
export async function pool<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

export function pct(n: number, d: number): string {
  return d ? `${Math.round((100 * n) / d)} %` : '-';
}
