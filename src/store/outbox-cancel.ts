import type { Db } from './db.js';

/**
 * Messages to someone who lost their place (dropped from the roster, issue 17) that are
 * still waiting in the outbox: marked failed with the reason, so no sender picks them up.
 * A row already claimed ('sending') is in flight and cannot be called back.
 * Returns how many were cancelled.
 */
export function cancelPendingTo(db: Db, openId: string, at: number, reason: string): number {
  return db
    .prepare(
      `UPDATE outbox SET status = 'failed', sent_at = ?, last_error = ?, error_code = NULL
        WHERE receive_id_type = 'open_id' AND receive_id = ? AND status = 'pending'`,
    )
    .run(at, reason.slice(0, 1000), openId).changes;
}
