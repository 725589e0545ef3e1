import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { BatchWriter } from '../store/batch.js';
import { inTransaction, type Db } from '../store/db.js';
import type { OutboxInput, OutboxRepo } from '../store/outbox-repo.js';
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

interface Completion {
  eventId: string;
  ok: boolean;
  error?: string;
  messages: OutboxInput[];
}

/**
 * Transport-neutral receiving: the webhook route and the long-connection client
 * both hand verified, decrypted envelopes here. Record (dedupe) → ack → dispatch
 * → write the handler's messages and mark the event done, in one transaction.
 */
export class EventIntake {
  private readonly inserts: BatchWriter<LarkEnvelope, boolean>;
  private readonly completions: BatchWriter<Completion, undefined>;

  constructor(
    private readonly deps: {
      db: Db;
      events: ReceivedEventsRepo;
      outbox: OutboxRepo;
      dispatcher: Dispatcher;
      clock: Clock;
      logger: Logger;
      metrics?: Metrics;
      /** Wakes the sender after messages were written. */
      onMessages: () => void;
    },
  ) {
    // Group commit: the event is on disk before it is acknowledged, at one commit per loop turn.
    this.inserts = new BatchWriter((envs) =>
      inTransaction(deps.db, () =>
        envs.map((env) =>
          deps.events.tryInsert({
            eventId: env.eventId,
            messageId: env.messageId,
            eventType: env.eventType,
            payload: JSON.stringify(env.payload),
            receivedAt: deps.clock.now(),
          }),
        ),
      ),
    );
    this.completions = new BatchWriter<Completion, undefined>((done) => {
      const now = deps.clock.now();
      inTransaction(deps.db, () => {
        for (const c of done) {
          for (const m of c.messages) deps.outbox.enqueue(m);
          if (c.ok) deps.events.markDone(c.eventId, now);
          else deps.events.markFailed(c.eventId, now, c.error ?? 'failed');
        }
      });
      if (done.some((c) => c.messages.length > 0)) deps.onMessages();
      return done.map(() => undefined);
    });
  }

  /**
   * Records the event (once per event_id and message_id) and starts its handler
   * without waiting for it, except for card callbacks, whose answer is awaited
   * within the 3 s budget.
   */
  async receive(env: LarkEnvelope): Promise<IntakeResult> {
    const fresh = await this.inserts.submit(env);
    if (!fresh) {
      this.deps.metrics?.eventsDuplicate.inc({ type: env.eventType });
      this.deps.logger.info({ event_id: env.eventId, message_id: env.messageId }, 'duplicate event ignored');
      return { status: 'duplicate' };
    }
    this.deps.metrics?.eventsReceived.inc({ type: env.eventType });
    const run = this.runAndRecord(env);
    if (env.eventType !== 'card.action.trigger') return { status: 'accepted' };
    let timer: NodeJS.Timeout | undefined;
    const body = await Promise.race([
      run.then((r) => r ?? {}),
      new Promise<unknown>((resolve) => {
        timer = setTimeout(() => resolve({ toast: { type: 'info', content: '已收到，正在处理…' } }), CARD_ANSWER_BUDGET_MS);
      }),
    ]);
    clearTimeout(timer);
    return { status: 'answered', body };
  }

  private async runAndRecord(env: LarkEnvelope): Promise<unknown> {
    let outcome;
    try {
      outcome = await this.deps.dispatcher.run(env);
    } catch (e) {
      await this.complete({ eventId: env.eventId, ok: false, error: e instanceof Error ? e.message : String(e), messages: [] });
      if (env.eventType === 'card.action.trigger') {
        return { toast: { type: 'error', content: '操作未成功，请稍后再试。' } };
      }
      return undefined;
    }
    await this.complete({ eventId: env.eventId, ok: true, messages: outcome.messages });
    return outcome.result;
  }

  private async complete(c: Completion): Promise<void> {
    try {
      await this.completions.submit(c);
    } catch (e) {
      // The event stays 'pending' and is handled again after a restart; its replies keep their uuids.
      this.deps.logger.error({ err: e, event_id: c.eventId }, 'could not record the outcome of an event');
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

  /** Resolves when every event received so far has been handled and recorded. */
  async idle(): Promise<void> {
    await this.deps.dispatcher.idle();
    // Completions are written on the next loop turn.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  }
}
