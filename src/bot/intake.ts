import type { Clock } from '../clock.js';
import { isStorageFullError, STORAGE_FULL_MESSAGE, STORAGE_FULL_QUEUED_MESSAGE, StorageFullError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { BatchWriter } from '../store/batch.js';
import { inTransaction, type Db } from '../store/db.js';
import { dialectOf } from '../store/sql.js';
import type { OutboxInput, OutboxRepo } from '../store/outbox-repo.js';
import type { ReceivedEventsRepo } from '../store/received-events-repo.js';
import { storageHealth, type StorageHealth } from '../store/storage-health.js';
import type { Dispatcher } from './dispatcher.js';
import { parseEnvelope, type LarkEnvelope } from './envelope.js';

/** Card callbacks must be answered within 3 s (and are never re-pushed); leave room for the network. */
export const CARD_ANSWER_BUDGET_MS = 2500;
/** While the disk is full: how often to look for space and run the kept events again. */
export const STORAGE_RETRY_MS = 1000;
/** PostgreSQL: how often a live instance takes over the pending events of an instance that is gone. */
export const ADOPT_EVERY_MS = 5000;

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
  private readonly storage: StorageHealth;
  /** Accepted events whose work could not be saved (disk full): run again when space returns. */
  private readonly parked = new Map<string, LarkEnvelope>();
  private retryTimer?: NodeJS.Timeout;
  private adoptTimer?: NodeJS.Timeout;

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
    this.storage = storageHealth(deps.db);
    // Group commit: the event is on disk before it is acknowledged, at one commit per loop turn.
    this.inserts = new BatchWriter((envs) =>
      inTransaction(deps.db, () =>
        envs.map((env) =>
          deps.events.tryInsert({
            eventId: env.eventId,
            messageId: env.messageId,
            eventType: env.eventType,
            payload: JSON.stringify(withoutToken(env.payload)),
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
    // Disk full: refuse before anything is half-kept (Lark redelivers a refused event; a card callback gets a toast).
    if (this.storage.full && !this.storage.probe()) return this.refuseFull(env);
    let fresh: boolean;
    try {
      fresh = await this.inserts.submit(env);
    } catch (e) {
      if (!isStorageFullError(e)) throw e;
      this.storageFailed(e);
      return this.refuseFull(env);
    }
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
      if (isStorageFullError(e)) return this.park(env, e);
      const err = await this.complete({ eventId: env.eventId, ok: false, error: e instanceof Error ? e.message : String(e), messages: [] });
      if (isStorageFullError(err)) return this.park(env, err);
      if (env.eventType === 'card.action.trigger') {
        return { toast: { type: 'error', content: '操作未成功，请稍后再试。' } };
      }
      return undefined;
    }
    const err = await this.complete({ eventId: env.eventId, ok: true, messages: outcome.messages });
    // Its replies were not saved: run it again later (handlers are idempotent per event; replies keep their uuids).
    if (isStorageFullError(err)) return this.park(env, err);
    return outcome.result;
  }

  /** Resolves with the error when the outcome could not be written. */
  private async complete(c: Completion): Promise<unknown> {
    try {
      await this.completions.submit(c);
      return undefined;
    } catch (e) {
      // The event stays 'pending' and is handled again (after a restart, or when space returns); its replies keep their uuids.
      if (!isStorageFullError(e)) this.deps.logger.error({ err: e, event_id: c.eventId }, 'could not record the outcome of an event');
      return e;
    }
  }

  private refuseFull(env: LarkEnvelope): IntakeResult {
    if (env.eventType === 'card.action.trigger') return { status: 'answered', body: { toast: { type: 'error', content: STORAGE_FULL_MESSAGE } } };
    throw new StorageFullError();
  }

  /** An accepted event whose work could not be saved: it stays 'pending' and runs again once space returns. */
  private park(env: LarkEnvelope, cause: unknown): unknown {
    this.storageFailed(cause);
    this.parked.set(env.eventId, env);
    this.deps.logger.warn({ event_id: env.eventId }, 'disk full: event kept; it runs again when space returns');
    return env.eventType === 'card.action.trigger' ? { toast: { type: 'warning', content: STORAGE_FULL_QUEUED_MESSAGE } } : undefined;
  }

  private storageFailed(cause: unknown): void {
    if (!this.storage.full) this.deps.logger.error({ err: cause }, 'disk full: refusing new events until space returns');
    this.storage.markFull(cause);
    if (this.retryTimer) return;
    this.retryTimer = setInterval(() => this.retryParked(), STORAGE_RETRY_MS);
    this.retryTimer.unref();
  }

  private retryParked(): void {
    if (!this.deps.db.open || (!this.storage.full && this.parked.size === 0)) {
      clearInterval(this.retryTimer);
      this.retryTimer = undefined;
      return;
    }
    if (!this.storage.probe()) return;
    const envs = [...this.parked.values()];
    this.parked.clear();
    if (envs.length) this.deps.logger.warn({ count: envs.length }, 'space is back: running the kept events again');
    for (const env of envs) void this.runAndRecord(env);
  }

  /** Accepted events waiting for disk space (tests, metrics). */
  parkedCount(): number {
    return this.parked.size;
  }

  /**
   * After a restart: events acknowledged but not yet handled by the previous process are handled now.
   * On PostgreSQL other instances may be handling their own pending events at this moment: only those
   * of no live instance are taken (claimed), and the same is looked for every few seconds, so the
   * events of an instance killed mid-way are handled even if it never comes back.
   */
  resumePending(): number {
    const n = this.adopt();
    if (n) this.deps.logger.warn({ count: n }, 'resuming events accepted before the restart');
    if (dialectOf(this.deps.db) === 'postgres' && !this.adoptTimer) {
      this.adoptTimer = setInterval(() => {
        if (!this.deps.db.open) return clearInterval(this.adoptTimer);
        try {
          const taken = this.adopt();
          if (taken) this.deps.logger.warn({ count: taken }, 'handling events accepted by an instance that is gone');
        } catch (e) {
          this.deps.logger.error({ err: e }, 'could not look for events of instances that are gone');
        }
      }, ADOPT_EVERY_MS);
      this.adoptTimer.unref();
    }
    return n;
  }

  private adopt(): number {
    const rows = this.deps.events.adoptPending();
    for (const row of rows) {
      const parsed = parseEnvelope(JSON.parse(row.payload));
      if (!parsed.ok) {
        this.deps.events.markFailed(row.event_id, this.deps.clock.now(), parsed.reason);
        continue;
      }
      void this.runAndRecord(parsed.envelope);
    }
    return rows.length;
  }

  /** Stops looking for other instances' events (PostgreSQL). */
  stop(): void {
    if (this.adoptTimer) clearInterval(this.adoptTimer);
    this.adoptTimer = undefined;
  }

  /** Resolves when every event received so far has been handled and recorded. */
  async idle(): Promise<void> {
    await this.deps.dispatcher.idle();
    // Completions are written on the next loop turn.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * The payload as kept in the inbox: the verification token has been checked at
 * the door and is a secret, so it is not written to the database (or its backups).
 */
function withoutToken(p: LarkEnvelope['payload']): LarkEnvelope['payload'] {
  if (!('token' in p.header)) return p;
  const { token: _checked, ...header } = p.header;
  return { ...p, header };
}
