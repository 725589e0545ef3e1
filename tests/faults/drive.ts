import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { renderMessageText } from '../../src/bot/card-text.js';
import { openDb, type Db } from '../../src/store/db.js';
import { cardActionEvent, messageEvent } from '../helpers/events.js';
import { larkRequest } from '../helpers/lark-sign.js';
import { TEST_ENCRYPT_KEY } from '../helpers/test-runtime.js';
import { sleep, type Service } from './lib.js';

/**
 * Driving the real service one event at a time, as Lark would (signed,
 * encrypted), and reading what it did from its own database (read-only, WAL):
 * whether the event was handled, what it wrote to the outbox, and the state of
 * any table. Used by the access and Excel fault files.
 */
export interface OutboxMessage {
  id: number;
  intent: string;
  receive_id_type: string;
  receive_id: string;
  reply_to: string | null;
  msg_type: string;
  content: string;
  /** The message as a person would read it (cards flattened to text). */
  text: string;
}

export class Driver {
  readonly db: Db;
  private seq = 0;

  constructor(
    readonly svc: Service,
    dbFile: string,
    readonly encryptKey = TEST_ENCRYPT_KEY,
    readonly verificationToken?: string,
  ) {
    this.db = openDb(dbFile, { readonly: true });
  }

  close(): void {
    this.db.close();
  }

  nextId(prefix: string): string {
    return `${prefix}_drv_${++this.seq}_${randomBytes(3).toString('hex')}`;
  }

  /** POSTs an event as Lark does; returns the HTTP status and the answer body. */
  async post(payload: unknown, encrypt = true): Promise<{ status: number; body: unknown }> {
    const r = larkRequest(payload, { encryptKey: this.encryptKey, encrypt });
    const res = await fetch(this.svc.base + '/lark/events', { method: 'POST', body: r.body, headers: r.headers, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body };
  }

  /** A text message (p2p, or a group message that @-mentions the bot) from `openId`; waits until it is handled. */
  async say(openId: string, text: string, opts: { chat?: 'p2p' | 'group'; chatId: string; botOpenId?: string }): Promise<{ messageId: string; replies: OutboxMessage[]; status: string; ms: number }> {
    const messageId = this.nextId('om');
    const ev = messageEvent({ text, openId, messageId, chatId: opts.chatId, chat: opts.chat ?? 'p2p', mentionBot: opts.botOpenId, token: this.verificationToken });
    return this.deliver(ev, messageId);
  }

  /** A file message from `openId` (the file itself must be registered with the fake under this message id and key). */
  async sendFile(openId: string, content: Record<string, unknown>, opts: { chatId: string; messageId?: string }): Promise<{ messageId: string; replies: OutboxMessage[]; status: string; ms: number }> {
    const messageId = opts.messageId ?? this.nextId('om_file');
    const ev = messageEvent({ text: 'x', openId, messageId, chatId: opts.chatId, token: this.verificationToken });
    const m = ev.event.message as Record<string, unknown>;
    m.message_type = 'file';
    m.content = JSON.stringify(content);
    return this.deliver(ev, messageId);
  }

  /** A card callback; returns the synchronous answer (toast) and waits until the event is handled. */
  async cardAction(openId: string, value: Record<string, unknown>, formValue?: Record<string, unknown>): Promise<{ eventId: string; status: number; body: unknown }> {
    const eventId = this.nextId('ev_card');
    const ev = cardActionEvent({ value, formValue, openId, eventId, token: this.verificationToken });
    const r = await this.post(ev);
    if (r.status === 200) await this.waitHandled(eventId);
    return { eventId, ...r };
  }

  /** Any other event (menu, bot added); waits until it is handled. */
  async event(eventType: string, event: Record<string, unknown>): Promise<{ eventId: string; status: number }> {
    const eventId = this.nextId('ev');
    const payload = {
      schema: '2.0',
      header: { event_id: eventId, event_type: eventType, create_time: String(Date.now()), token: this.verificationToken ?? '', app_id: 'cli_x', tenant_key: 't' },
      event,
    };
    const r = await this.post(payload);
    if (r.status === 200) await this.waitHandled(eventId);
    return { eventId, status: r.status };
  }

  private async deliver(ev: { header: Record<string, unknown> }, messageId: string) {
    const started = Date.now();
    const r = await this.post(ev);
    if (r.status !== 200) throw new Error(`event refused with ${r.status}: ${JSON.stringify(r.body)}`);
    const status = await this.waitHandled(String(ev.header.event_id));
    return { messageId, replies: this.repliesTo(messageId), status, ms: Date.now() - started };
  }

  /** Waits until the service has handled the event (its messages are then in the outbox). */
  async waitHandled(eventId: string, timeoutMs = 120_000): Promise<string> {
    const q = this.db.prepare(`SELECT status FROM received_events WHERE event_id = ?`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const row = q.get(eventId) as { status: string } | undefined;
      if (row && row.status !== 'pending') return row.status;
      if (this.svc.child.exitCode !== null || this.svc.child.signalCode !== null) throw new Error(`service died while handling ${eventId}`);
      if (Date.now() > deadline) throw new Error(`event ${eventId} not handled within ${timeoutMs} ms`);
      await sleep(15);
    }
  }

  repliesTo(messageId: string): OutboxMessage[] {
    return (this.db.prepare(`SELECT * FROM outbox WHERE reply_to = ? ORDER BY id`).all(messageId) as OutboxMessage[]).map(withText);
  }

  outboxSince(id: number): OutboxMessage[] {
    return (this.db.prepare(`SELECT * FROM outbox WHERE id > ? ORDER BY id`).all(id) as OutboxMessage[]).map(withText);
  }

  maxOutboxId(): number {
    return (this.db.prepare(`SELECT COALESCE(MAX(id), 0) AS n FROM outbox`).get() as { n: number }).n;
  }

  allOutbox(): OutboxMessage[] {
    return this.outboxSince(0);
  }

  /** Every row of each table, as one string per table (for "nothing changed" checks). */
  snapshot(tables: readonly string[]): Record<string, string> {
    return Object.fromEntries(tables.map((t) => [t, JSON.stringify(this.db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all())]));
  }

  auditSince(id: number): { id: number; actor: string; action: string; target: string | null; detail: string | null }[] {
    return this.db.prepare(`SELECT id, actor, action, target, detail FROM audit_log WHERE id > ? ORDER BY id`).all(id) as never;
  }

  maxAuditId(): number {
    return (this.db.prepare(`SELECT COALESCE(MAX(id), 0) AS n FROM audit_log`).get() as { n: number }).n;
  }
}

function withText(r: OutboxMessage): OutboxMessage {
  return { ...r, text: renderMessageText(r.msg_type, r.content) };
}

/** The workflow tables: what a command may change. */
export const WORKFLOW_TABLES = [
  'wf_regions',
  'wf_people',
  'wf_assignments',
  'wf_stage_overrides',
  'wf_stage_progress',
  'wf_talks',
  'wf_talk_interviewers',
  'wf_risks',
  'wf_risk_followups',
  'wf_structures',
  'wf_changes',
  'wf_imports',
  'wf_settings',
] as const;

/** Peak and current resident memory of a process (Linux), in MB. */
export function memoryOf(pid: number): { peakMb: number; rssMb: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
  return { peakMb: Math.round(kb('VmHWM') / 1024), rssMb: Math.round(kb('VmRSS') / 1024) };
}

/** Resets the peak (VmHWM) to the current RSS, so the next peak belongs to the next attack (Linux; ignored elsewhere). */
export function resetPeak(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    /* not permitted: peaks then accumulate, which only makes the check stricter */
  }
}
