import type { Db } from './db.js';

export type ReceiveIdType = 'open_id' | 'chat_id' | 'user_id' | 'union_id' | 'email';
export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'offline';

export interface OutboxInput {
  uuid: string;
  intent: string;
  receiveIdType: ReceiveIdType;
  receiveId: string;
  replyTo?: string;
  rateKey: string;
  msgType: string;
  content: string;
  createdAt: number;
  /** 'offline' for messages that are never handed to Lark (local chat, console). */
  status?: 'pending' | 'offline';
}

export interface OutboxRow {
  id: number;
  uuid: string;
  intent: string;
  receive_id_type: ReceiveIdType;
  receive_id: string;
  reply_to: string | null;
  rate_key: string;
  msg_type: string;
  content: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  claimed_at: number | null;
  error_code: number | null;
  last_error: string | null;
  lark_message_id: string | null;
  created_at: number;
  sent_at: number | null;
}

export function createOutboxRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO outbox (uuid, intent, receive_id_type, receive_id, reply_to, rate_key, msg_type, content,
                         status, next_attempt_at, created_at)
     VALUES (@uuid, @intent, @receiveIdType, @receiveId, @replyTo, @rateKey, @msgType, @content,
             @status, @createdAt, @createdAt)
     ON CONFLICT (uuid) DO NOTHING`,
  );
  const byUuid = db.prepare(`SELECT * FROM outbox WHERE uuid = ?`);
  const due = db.prepare(
    `SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
  );
  // The oldest due row of each receiver, for when one receiver's backlog fills the plain scan.
  const duePerReceiver = db.prepare(
    `SELECT o.* FROM outbox o
       JOIN (SELECT MIN(id) AS id FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? GROUP BY rate_key) f
         ON f.id = o.id
      ORDER BY o.next_attempt_at, o.id LIMIT ?`,
  );
  const claim = db.prepare(`UPDATE outbox SET status = 'sending', claimed_at = ?, attempts = attempts + 1
                            WHERE id = ? AND status = 'pending'`);
  const sent = db.prepare(`UPDATE outbox SET status = 'sent', sent_at = ?, lark_message_id = ?, last_error = NULL
                           WHERE id = ?`);
  const retry = db.prepare(`UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ?, error_code = ?,
                            claimed_at = NULL WHERE id = ?`);
  const failed = db.prepare(`UPDATE outbox SET status = 'failed', sent_at = ?, error_code = ?, last_error = ?
                             WHERE id = ?`);
  const offline = db.prepare(`UPDATE outbox SET status = 'offline', sent_at = ? WHERE id = ?`);
  const release = db.prepare(`UPDATE outbox SET status = 'pending', claimed_at = NULL
                              WHERE status = 'sending' AND claimed_at < ?`);
  const depth = db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'sending')`);
  const nextDue = db.prepare(`SELECT MIN(next_attempt_at) AS t FROM outbox WHERE status = 'pending'`);
  const since = db.prepare(`SELECT * FROM outbox WHERE id > ? ORDER BY id`);
  const maxId = db.prepare(`SELECT COALESCE(MAX(id), 0) AS id FROM outbox`);

  return {
    /** Writes the message unless one with the same uuid exists. Returns the row either way. */
    enqueue(m: OutboxInput): { row: OutboxRow; created: boolean } {
      const r = insert.run({ ...m, replyTo: m.replyTo ?? null, status: m.status ?? 'pending' });
      return { row: byUuid.get(m.uuid) as OutboxRow, created: r.changes === 1 };
    },
    getByUuid(uuid: string): OutboxRow | undefined {
      return byUuid.get(uuid) as OutboxRow | undefined;
    },
    /** Due rows, oldest first (cheap: walks the status/next_attempt_at index). */
    listDue(now: number, limit: number): OutboxRow[] {
      return due.all(now, limit) as OutboxRow[];
    },
    /** The oldest due row of each receiver, so one chat's backlog cannot starve the others. */
    listDuePerReceiver(now: number, limit: number): OutboxRow[] {
      return duePerReceiver.all(now, limit) as OutboxRow[];
    },
    /** Atomically moves a pending row to 'sending'; false when someone else got it first. */
    claim(id: number, now: number): boolean {
      return claim.run(now, id).changes === 1;
    },
    markSent(id: number, now: number, larkMessageId: string | null): void {
      sent.run(now, larkMessageId, id);
    },
    markRetry(id: number, nextAttemptAt: number, error: string, code: number | null): void {
      retry.run(nextAttemptAt, error.slice(0, 1000), code, id);
    },
    markFailed(id: number, now: number, code: number | null, error: string): void {
      failed.run(now, code, error.slice(0, 1000), id);
    },
    markOffline(id: number, now: number): void {
      offline.run(now, id);
    },
    /** Rows left 'sending' by a process that died are sent again (same uuid: Lark keeps it once). */
    releaseStale(claimedBefore: number): number {
      return release.run(claimedBefore).changes;
    },
    depth(): number {
      return (depth.get() as { n: number }).n;
    },
    nextDueAt(): number | null {
      return (nextDue.get() as { t: number | null }).t;
    },
    listSince(id: number): OutboxRow[] {
      return since.all(id) as OutboxRow[];
    },
    maxId(): number {
      return (maxId.get() as { id: number }).id;
    },
  };
}

export type OutboxRepo = ReturnType<typeof createOutboxRepo>;
