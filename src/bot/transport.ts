import type { OutboxRow } from '../store/outbox-repo.js';

/** What happened to one send attempt; the outbox worker turns it into the row's next state. */
export type SendOutcome =
  | { kind: 'sent'; messageId: string | null }
  | { kind: 'rate_limited'; retryAfterMs: number; code: number | null; error: string }
  | { kind: 'retryable'; code: number | null; error: string }
  | { kind: 'rejected'; code: number | null; error: string }
  | { kind: 'offline' };

export interface Transport {
  readonly name: string;
  /** Whether Lark's send limits apply (false for transports that never reach Lark). */
  readonly rateLimited: boolean;
  send(row: OutboxRow): Promise<SendOutcome>;
}
