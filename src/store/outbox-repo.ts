import type { Db } from './db.js';
import { instanceKey, LIVE_INSTANCE_KEYS_SQL } from './instance.js';
import { dialectOf } from './sql.js';

export type ReceiveIdType = 'open_id' | 'chat_id' | 'user_id' | 'union_id' | 'email';
export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'offline';

/**
 * Which lane a message leaves in (issue 17): replies to an event are interactive and go first, with a
 * share of Lark's per-app limits kept for them; reminders, digests and other scheduled sends are bulk.
 */
export const PRIORITY = { interactive: 0, bulk: 1 } as const;
export type Priority = (typeof PRIORITY)[keyof typeof PRIORITY];

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
  /** Default bulk; the dispatcher's replies are interactive. */
  priority?: Priority;
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
  claimed_by: number | null;
  priority: number;
}

/** On PostgreSQL, a 'sending' row claimed by no instance (written by an older version) is released after this long. */
export const UNOWNED_CLAIM_LEASE_MS = 5 * 60_000;

/** Sends in the last second and minute, across every instance, plus those in flight (PostgreSQL). */
export interface SharedSends {
  lastSecond: number;
  lastMinute: number;
  sending: number;
}

export function createOutboxRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO outbox (uuid, intent, receive_id_type, receive_id, reply_to, rate_key, msg_type, content,
                         status, next_attempt_at, created_at, priority)
     VALUES (@uuid, @intent, @receiveIdType, @receiveId, @replyTo, @rateKey, @msgType, @content,
             @status, @createdAt, @createdAt, @priority)
     ON CONFLICT (uuid) DO NOTHING
     RETURNING *`,
  );
  const byUuid = db.prepare(`SELECT * FROM outbox WHERE uuid = ?`);
  // Interactive rows first, then bulk; each oldest first. @max 0: interactive rows only (the bulk lane is full).
  const due = db.prepare(
    `SELECT * FROM outbox WHERE status = 'pending' AND priority <= @max AND next_attempt_at <= @now
      ORDER BY priority, next_attempt_at, id LIMIT @limit`,
  );
  // The oldest due row of each receiver (and lane), for when one receiver's backlog fills the plain scan.
  const duePerReceiver = db.prepare(
    `SELECT o.* FROM outbox o
       JOIN (SELECT MIN(id) AS id FROM outbox WHERE status = 'pending' AND priority <= @max AND next_attempt_at <= @now
              GROUP BY rate_key, priority) f
         ON f.id = o.id
      ORDER BY o.priority, o.next_attempt_at, o.id LIMIT @limit`,
  );
  // claimed_by: this instance's key on PostgreSQL (its claims are released once it is gone), NULL on SQLite.
  const claim = db.prepare(`UPDATE outbox SET status = 'sending', claimed_at = @now, attempts = attempts + 1, claimed_by = @by
                            WHERE id = @id AND status = 'pending'`);
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
  const pg = dialectOf(db) === 'postgres' ? postgresStatements(db) : null;

  return {
    /** Writes the message unless one with the same uuid exists. Returns the row either way. */
    enqueue(m: OutboxInput): { row: OutboxRow; created: boolean } {
      // One statement when new (the common case); the existing row is read only on a repeat.
      const created = insert.get({ ...m, replyTo: m.replyTo ?? null, status: m.status ?? 'pending', priority: m.priority ?? PRIORITY.bulk }) as OutboxRow | undefined;
      return created ? { row: created, created: true } : { row: byUuid.get(m.uuid) as OutboxRow, created: false };
    },
    getByUuid(uuid: string): OutboxRow | undefined {
      return byUuid.get(uuid) as OutboxRow | undefined;
    },
    /** Due rows, interactive first, each lane oldest first (cheap: walks the status/priority/next_attempt_at index). */
    listDue(now: number, limit: number, maxPriority: Priority = PRIORITY.bulk): OutboxRow[] {
      return due.all({ now, limit, max: maxPriority }) as OutboxRow[];
    },
    /** The oldest due row of each receiver (per lane), so one chat's backlog cannot starve the others. */
    listDuePerReceiver(now: number, limit: number, maxPriority: Priority = PRIORITY.bulk): OutboxRow[] {
      return duePerReceiver.all({ now, limit, max: maxPriority }) as OutboxRow[];
    },
    /** Atomically moves a pending row to 'sending'; false when someone else got it first. */
    claim(id: number, now: number): boolean {
      return claim.run({ now, id, by: instanceKey(db) }).changes === 1;
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
    /** Whether claims are shared between instances (PostgreSQL): then use claimDue / releaseDead / sharedSends. */
    shared: pg !== null,
    /**
     * PostgreSQL: claims up to `limit` due rows for this instance in one statement. Rows another
     * instance is claiming right now are skipped (SKIP LOCKED), not waited for. Per receiver only
     * its first due row is eligible (interactive before bulk, then oldest), and only while none of
     * its rows is 'sending' anywhere, so a chat gets its messages one at a time and in order
     * whichever instances send them. maxPriority 0: interactive rows only.
     */
    claimDue(now: number, limit: number, maxPriority: Priority = PRIORITY.bulk): OutboxRow[] {
      if (!pg) throw new Error('claimDue is for the PostgreSQL store');
      if (limit <= 0) return [];
      return pg.claimDue.all({ now, limit, me: instanceKey(db), max: maxPriority }) as OutboxRow[];
    },
    /**
     * PostgreSQL: releases 'sending' rows whose claimer is gone (its instance lock is free), and
     * unowned claims older than the lease. A live instance's claims are never touched, however
     * old: it may be waiting on Lark, or on a disk to take the result.
     */
    releaseDead(now: number): number {
      if (!pg) throw new Error('releaseDead is for the PostgreSQL store');
      return pg.releaseDead.run({ me: instanceKey(db), unownedBefore: now - UNOWNED_CLAIM_LEASE_MS }).changes;
    },
    /** PostgreSQL: what every instance together has sent recently (Lark's per-app limits are per app, not per process). */
    sharedSends(now: number): SharedSends {
      if (!pg) throw new Error('sharedSends is for the PostgreSQL store');
      const r = pg.recent.get({ minuteAgo: now - 60_000, secondAgo: now - 1000 }) as { m: number; s: number };
      const f = pg.sending.get() as { n: number };
      return { lastSecond: r.s, lastMinute: r.m, sending: f.n };
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

/** PostgreSQL-only statements (SKIP LOCKED, pg_locks). */
function postgresStatements(db: Db) {
  return {
    // One statement: pick and lock (skipping rows another instance is locking), mark 'sending', return them.
    // An instance whose snapshot predates another's claim re-checks status='pending' on the locked row
    // (READ COMMITTED re-evaluation), so a row is claimed once.
    claimDue: db.prepare(
      // The pick is a MATERIALIZED CTE, run once: as an IN (subquery) the planner may re-scan it per row and
      // return more than @limit rows (measured: LIMIT 3 claimed 4).
      `WITH picked AS MATERIALIZED (
         SELECT o.id FROM outbox o
          WHERE o.status = 'pending' AND o.priority <= @max AND o.next_attempt_at <= @now
            AND o.id = (SELECT p.id FROM outbox p
                         WHERE p.rate_key = o.rate_key AND p.status = 'pending' AND p.priority <= @max AND p.next_attempt_at <= @now
                         ORDER BY p.priority, p.id LIMIT 1)
            AND NOT EXISTS (SELECT 1 FROM outbox s WHERE s.rate_key = o.rate_key AND s.status = 'sending')
          ORDER BY o.priority, o.next_attempt_at, o.id
          LIMIT @limit
          FOR UPDATE SKIP LOCKED)
       UPDATE outbox SET status = 'sending', claimed_at = @now, claimed_by = @me, attempts = outbox.attempts + 1
         FROM picked
        WHERE outbox.id = picked.id AND outbox.status = 'pending'
        RETURNING outbox.*`,
    ),
    releaseDead: db.prepare(
      `UPDATE outbox SET status = 'pending', claimed_at = NULL, claimed_by = NULL
        WHERE status = 'sending'
          AND (claimed_by IS NULL AND claimed_at < @unownedBefore
               OR claimed_by <> @me AND claimed_by NOT IN (${LIVE_INSTANCE_KEYS_SQL}))`,
    ),
    recent: db.prepare(
      `SELECT COUNT(*) AS m, COUNT(*) FILTER (WHERE sent_at > @secondAgo) AS s FROM outbox WHERE sent_at > @minuteAgo`,
    ),
    sending: db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE status = 'sending'`),
  };
}

export type OutboxRepo = ReturnType<typeof createOutboxRepo>;
