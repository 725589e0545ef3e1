import { isStorageFullError } from '../errors.js';
import type { Db } from './db.js';

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
}

/** Dedupe keys are kept at least this long: Lark retries for about 7.1 h (15 s, 5 min, 1 h, 6 h). */
export const DEDUPE_RETENTION_MS = 24 * 3600_000;

export function createReceivedEventsRepo(db: Db) {
  const insert = db.prepare(
    `INSERT INTO received_events (event_id, message_id, event_type, payload, status, received_at)
     VALUES (@event_id, @message_id, @event_type, @payload, 'pending', @received_at)
     ON CONFLICT DO NOTHING`,
  );
  const markDone = db.prepare(`UPDATE received_events SET status = 'done', handled_at = ?, error = NULL WHERE event_id = ?`);
  const markFailed = db.prepare(`UPDATE received_events SET status = 'failed', handled_at = ?, error = ? WHERE event_id = ?`);
  const pending = db.prepare(`SELECT * FROM received_events WHERE status = 'pending' ORDER BY received_at, rowid`);
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
