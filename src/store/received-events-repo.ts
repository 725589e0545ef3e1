import { isStorageFullError } from '../errors.js';
import type { Db } from './db.js';
import { instanceKey, LIVE_INSTANCE_KEYS_SQL } from './instance.js';
import { dialectOf } from './sql.js';

export type InboxStatus = 'pending' | 'done' | 'failed';

export interface ReceivedEventRow {
  event_id: string;
  message_id: string | null;
  event_type: string;
  payload: string;
  status: InboxStatus;
  error: string | null;
  received_at: number;
  handled_at: number | null;
  claimed_by: number | null;
}

/** Dedupe keys are kept at least this long: Lark retries for about 7.1 h (15 s, 5 min, 1 h, 6 h). */
export const DEDUPE_RETENTION_MS = 24 * 3600_000;

export function createReceivedEventsRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO received_events (event_id, message_id, event_type, payload, status, received_at, claimed_by)
     VALUES (@event_id, @message_id, @event_type, @payload, 'pending', @received_at, @claimed_by)
     ON CONFLICT DO NOTHING`,
  );
  // PostgreSQL: the pending events nobody alive is handling (never received by a live instance, or
  // received by one that is gone), taken over in one statement; rows another instance is adopting
  // at this moment are skipped. SQLite (one process) takes every pending event at start.
  const adopt =
    dialectOf(db) === 'postgres'
    ? db.prepare(
        `WITH picked AS MATERIALIZED (
           SELECT event_id FROM received_events
            WHERE status = 'pending'
              AND (claimed_by IS NULL OR claimed_by <> @me AND claimed_by NOT IN (${LIVE_INSTANCE_KEYS_SQL}))
            FOR UPDATE SKIP LOCKED)
         UPDATE received_events r SET claimed_by = @me FROM picked
          WHERE r.event_id = picked.event_id AND r.status = 'pending'
          RETURNING r.*`,
      )
    : null;
  const markDone = db.prepare(`UPDATE received_events SET status = 'done', handled_at = ?, error = NULL WHERE event_id = ?`);
  const markFailed = db.prepare(`UPDATE received_events SET status = 'failed', handled_at = ?, error = ? WHERE event_id = ?`);
  const pending = db.prepare(
    // PostgreSQL has no rowid (insertion order within a millisecond); event_id breaks the tie there.
    `SELECT * FROM received_events WHERE status = 'pending' ORDER BY received_at, ${dialectOf(db) === 'postgres' ? 'event_id' : 'rowid'}`,
  );
  const prune = db.prepare(`DELETE FROM received_events WHERE received_at < ? AND status != 'pending'`);
  const get = db.prepare(`SELECT * FROM received_events WHERE event_id = ?`);
  const count = db.prepare(`SELECT status, COUNT(*) AS n FROM received_events GROUP BY status`);

  return {
    /**
     * Records the event unless its event_id, or its message_id, was seen before.
     * Returns false for a duplicate. One statement, so two deliveries racing
     * through different connections still produce one row.
     */
    tryInsert(e: { eventId: string; messageId?: string; eventType: string; payload: string; receivedAt: number }): boolean {
      const r = insert.run({
        event_id: e.eventId,
        message_id: e.messageId ?? null,
        event_type: e.eventType,
        payload: e.payload,
        received_at: e.receivedAt,
        // The receiving instance handles it; the others leave it alone while this one lives.
        claimed_by: instanceKey(db),
      });
      return r.changes === 1;
    },
    markDone(eventId: string, at: number): void {
      markDone.run(at, eventId);
    },
    markFailed(eventId: string, at: number, error: string): void {
      markFailed.run(at, error.slice(0, 2000), eventId);
    },
    listPending(): ReceivedEventRow[] {
      return pending.all() as ReceivedEventRow[];
    },
    /**
     * The pending events this instance should handle because no live instance is: on SQLite every
     * pending event (called at start, when nothing else runs); on PostgreSQL those nobody alive has
     * claimed, now claimed by this instance, oldest first.
     */
    adoptPending(): ReceivedEventRow[] {
      if (!adopt) return pending.all() as ReceivedEventRow[];
      const rows = adopt.all({ me: instanceKey(db) }) as ReceivedEventRow[];
      return rows.sort((a, b) => a.received_at - b.received_at || (a.event_id < b.event_id ? -1 : 1));
    },
    get(eventId: string): ReceivedEventRow | undefined {
      return get.get(eventId) as ReceivedEventRow | undefined;
    },
    /**
     * Drops handled events older than the retention window; pending ones stay until handled.
     * On a full disk it skips (0): it runs from a timer, where a throw would end the process.
     */
    prune(now: number, retentionMs = DEDUPE_RETENTION_MS): number {
      try {
        return prune.run(now - retentionMs).changes;
      } catch (e) {
        if (isStorageFullError(e)) return 0;
        throw e;
      }
    },
    countByStatus(): Record<string, number> {
      const out: Record<string, number> = {};
      for (const r of count.all() as { status: string; n: number }[]) out[r.status] = r.n;
      return out;
    },
  };
}

export type ReceivedEventsRepo = ReturnType<typeof createReceivedEventsRepo>;
