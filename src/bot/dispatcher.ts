import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { LarkEnvelope } from './envelope.js';
import type { Outbox } from './outbox.js';

export interface HandlerContext {
  eventId: string;
  logger: Logger;
  clock: Clock;
  outbox: Outbox;
}

/** A handler for one event type. Card callbacks return their synchronous answer ({toast, card}). */
export type EventHandler = (env: LarkEnvelope, ctx: HandlerContext) => Promise<unknown>;

/**
 * Routes an event to the handler registered for its type and keeps track of
 * what is running, so shutdown can wait for it and tests can await `idle()`.
 * Handlers must be idempotent per event: after a crash an event may run again.
 */
export class Dispatcher {
  private readonly handlers = new Map<string, EventHandler>();
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly deps: { logger: Logger; clock: Clock; outbox: Outbox; metrics?: Metrics },
  ) {}

  on(eventType: string, handler: EventHandler): this {
    this.handlers.set(eventType, handler);
    return this;
  }

  handles(eventType: string): boolean {
    return this.handlers.has(eventType);
  }

  /** Runs the handler; resolves with its result, rejects with its error (logged with the event id). */
  run(env: LarkEnvelope): Promise<unknown> {
    const p = this.invoke(env);
    this.inflight.add(p);
    void p.then(
      () => this.inflight.delete(p),
      () => this.inflight.delete(p),
    );
    return p;
  }

  private async invoke(env: LarkEnvelope): Promise<unknown> {
    const logger = this.deps.logger.child({ event_id: env.eventId, event_type: env.eventType });
    const handler = this.handlers.get(env.eventType);
    if (!handler) {
      logger.debug('no handler for event type; ignored');
      return undefined;
    }
    const started = performance.now();
    try {
      const result = await handler(env, { eventId: env.eventId, logger, clock: this.deps.clock, outbox: this.deps.outbox });
      this.deps.metrics?.handlerSeconds.observe({ type: env.eventType, outcome: 'ok' }, (performance.now() - started) / 1000);
      return result;
    } catch (e) {
      this.deps.metrics?.handlerSeconds.observe({ type: env.eventType, outcome: 'error' }, (performance.now() - started) / 1000);
      logger.error({ err: e }, 'event handler failed');
      throw e;
    }
  }

  /** Resolves when every handler started so far (and any they started) has finished. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }
}
