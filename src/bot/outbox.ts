import { v5 as uuidv5 } from 'uuid';
import type { Clock } from '../clock.js';
import { AppError } from '../errors.js';
import { PRIORITY, type OutboxInput, type OutboxRepo, type OutboxRow, type Priority, type ReceiveIdType } from '../store/outbox-repo.js';

/** Namespace for message uuids: uuid = v5(intent), so the same intent always maps to the same uuid. */
export const UUID_NAMESPACE = '6f1c1f0e-3d0a-5b7e-9a39-2b1f6e0c4d21';

export type MsgType = 'text' | 'interactive' | 'image' | 'file' | 'post';

export interface OutgoingMessage {
  /**
   * What this message is for, stable across retries and restarts: e.g. `reply:<message_id>:0`,
   * `welcome:<chat_id>:<event_id>`, `reminder:<open_id>:<slot>`. Never include an attempt counter.
   */
  intent: string;
  to: { type: ReceiveIdType; id: string };
  /** Reply in the thread of this message (im/v1/messages/:id/reply) instead of creating a new one. */
  replyTo?: string;
  /** Who the per-user/per-chat limit counts against; defaults to `to.id`. */
  rateKey?: string;
  msgType: MsgType;
  content: Record<string, unknown>;
}

/** Lark's limits: text 150 KB, card/post 30 KB (message create page). */
const MAX_BYTES: Record<MsgType, number> = {
  text: 150 * 1024,
  post: 30 * 1024,
  interactive: 30 * 1024,
  image: 4 * 1024,
  file: 4 * 1024,
};

/**
 * Receivers under this prefix are local sessions (terminal chat, web console):
 * their messages are stored as 'offline' and never handed to Lark, even when a
 * service with Lark credentials shares the database.
 */
export const LOCAL_PREFIX = 'local:';

export function isLocalReceiver(id: string): boolean {
  return id.startsWith(LOCAL_PREFIX);
}

export function messageUuid(intent: string): string {
  // UTF-8 bytes, as uuid does for a string, but a lone surrogate (ids from a hostile
  // event) becomes U+FFFD instead of throwing URIError: same uuid for every valid intent.
  return uuidv5(Buffer.from(intent, 'utf8'), UUID_NAMESPACE);
}

/** Where handlers put what they want to say. */
export interface MessageSink {
  enqueue(m: OutgoingMessage): void;
}

/** Checks size limits and derives the uuid: the row as it will be stored (bulk unless told otherwise). */
export function toOutboxInput(m: OutgoingMessage, now: number, priority: Priority = PRIORITY.bulk): OutboxInput {
  const content = JSON.stringify(m.content);
  const bytes = Buffer.byteLength(content, 'utf8');
  if (bytes > MAX_BYTES[m.msgType]) {
    throw new AppError('bad_request', '消息内容过长，无法发送。', {
      detail: `${m.msgType} content of ${bytes} bytes exceeds Lark's limit (${m.intent})`,
    });
  }
  return {
    uuid: messageUuid(m.intent),
    intent: m.intent,
    receiveIdType: m.to.type,
    receiveId: m.to.id,
    replyTo: m.replyTo,
    rateKey: m.rateKey ?? m.to.id,
    msgType: m.msgType,
    content,
    createdAt: now,
    status: isLocalReceiver(m.to.id) ? 'offline' : 'pending',
    priority,
  };
}

/**
 * Writes straight to the outbox (scheduled jobs, CLI): bulk sends, which leave a share of Lark's
 * limits to replies. Event handlers get a per-event buffer instead.
 */
export class Outbox implements MessageSink {
  constructor(
    private readonly repo: OutboxRepo,
    private readonly clock: Clock,
    private readonly onEnqueued: () => void = () => {},
  ) {}

  /** Writes the message to the outbox (idempotent per intent) and wakes the sender. */
  enqueue(m: OutgoingMessage): OutboxRow {
    const { row } = this.repo.enqueue(toOutboxInput(m, this.clock.now()));
    this.onEnqueued();
    return row;
  }
}

/**
 * An event handler's messages, held until the handler has finished and then
 * written in the same transaction that marks the event handled: an event is
 * done exactly when its replies are in the outbox. They are interactive: someone
 * is waiting for them, so they leave ahead of reminders and digests (issue 17).
 */
export class BufferedSink implements MessageSink {
  readonly rows: OutboxInput[] = [];
  /** localOnly: the event came from a local session; whatever it says stays local (see LOCAL_PREFIX). */
  constructor(
    private readonly clock: Clock,
    private readonly localOnly = false,
  ) {}
  enqueue(m: OutgoingMessage): void {
    const msg =
      this.localOnly && !isLocalReceiver(m.to.id)
        ? { ...m, to: { type: 'chat_id' as const, id: `${LOCAL_PREFIX}${m.to.type}:${m.to.id}` }, replyTo: undefined, rateKey: undefined }
        : m;
    this.rows.push(toOutboxInput(msg, this.clock.now(), PRIORITY.interactive));
  }
}

export function textContent(text: string): Record<string, unknown> {
  return { text };
}
