import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { ReceivedEventsRepo } from '../store/received-events-repo.js';
import type { Dispatcher } from './dispatcher.js';
import { parseEnvelope, type LarkEnvelope } from './envelope.js';

/** Card callbacks must be answered within 3 s (and are never re-pushed); leave room for the network. */
export const CARD_ANSWER_BUDGET_MS = 2500;

export type IntakeResult =
  | { status: 'duplicate' }
  | { status: 'accepted' }
  /** Card callbacks: the body to answer Lark with ({} = no change). */
  | { status: 'answered'; body: unknown };

/**
 * Transport-neutral receiving: the webhook route and the long-connection client
 * both hand verified, decrypted envelopes here. Dedupe → record → ack → dispatch.
 */
export class EventIntake {
  constructor(
    private readonly deps: {
      events: ReceivedEventsRepo;
      dispatcher: Dispatcher;
      clock: Clock;
      logger: Logger;
      metrics?: Metrics;
    },
  ) {}

  /**
   * Records the event (once per event_id and message_id) and starts its handler
   * without waiting for it, except for card callbacks, whose answer is awaited
   * within the 3 s budget.
   */
  async receive(env: LarkEnvelope): Promise<IntakeResult> {
    const fresh = this.deps.events.tryInsert({
      eventId: env.eventId,
      messageId: env.messageId,
      eventType: env.eventType,
      payload: JSON.stringify(env.payload),
      receivedAt: this.deps.clock.now(),
    });
    if (!fresh) {
      this.deps.metrics?.eventsDuplicate.inc({ type: env.eventType });
      this.deps.logger.info({ event_id: env.eventId, message_id: env.messageId }, 'duplicate event ignored');
      return { status: 'duplicate' };
    }
    this.deps.metrics?.eventsReceived.inc({ type: env.eventType });
    const run = this.runAndRecord(env);
    if (env.eventType !== 'card.action.trigger') return { status: 'accepted' };
    const body = await Promise.race([
      run.then((r) => r ?? {}),
      new Promise<unknown>((resolve) =>
        setTimeout(() => resolve({ toast: { type: 'info', content: '已收到，正在处理…' } }), CARD_ANSWER_BUDGET_MS).unref(),
      ),
    ]);
    return { status: 'answered', body };
  }

  private async runAndRecord(env: LarkEnvelope): Promise<unknown> {
    try {
      const result = await this.deps.dispatcher.run(env);
      this.deps.events.markDone(env.eventId, this.deps.clock.now());
      return result;
    } catch (e) {
      this.deps.events.markFailed(env.eventId, this.deps.clock.now(), e instanceof Error ? e.message : String(e));
      if (env.eventType === 'card.action.trigger') {
        return { toast: { type: 'error', content: '操作未成功，请稍后再试。' } };
      }
      return undefined;
    }
  }

  /** After a restart: events acknowledged but not yet handled by the previous process are handled now. */
  resumePending(): number {
    const rows = this.deps.events.listPending();
    for (const row of rows) {
      const parsed = parseEnvelope(JSON.parse(row.payload));
      if (!parsed.ok) {
        this.deps.events.markFailed(row.event_id, this.deps.clock.now(), parsed.reason);
        continue;
      }
      void this.runAndRecord(parsed.envelope);
    }
    if (rows.length) this.deps.logger.warn({ count: rows.length }, 'resuming events accepted before the restart');
    return rows.length;
  }
}
