import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { LarkEnvelope } from './envelope.js';
import { BufferedSink, type MessageSink } from './outbox.js';
import type { OutboxInput } from '../store/outbox-repo.js';

export interface HandlerContext {
  eventId: string;
  logger: Logger;
  clock: Clock;
  /** The event's messages: written to the outbox together with the event's completion. */
  outbox: MessageSink;
}

export interface HandlerOutcome {
  result: unknown;
  messages: OutboxInput[];
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
    private readonly deps: { logger: Logger; clock: Clock; metrics?: Metrics },
  ) {}

  on(eventType: string, handler: EventHandler): this {
    this.handlers.set(eventType, handler);
    return this;
  }

  handles(eventType: string): boolean {
    return this.handlers.has(eventType);
  }

  /** Runs the handler; resolves with its result and messages, rejects with its error (logged with the event id). */
  run(env: LarkEnvelope): Promise<HandlerOutcome> {
    const p = this.invoke(env);
    this.inflight.add(p);
    void p.then(
      () => this.inflight.delete(p),
      () => this.inflight.delete(p),
    );
    return p;
  }

  private async invoke(env: LarkEnvelope): Promise<HandlerOutcome> {
    // Child loggers are costly at hundreds of events a second: made only when something is logged.
    let child: Logger | undefined;
    const logger = () => (child ??= this.deps.logger.child({ event_id: env.eventId, event_type: env.eventType }));
    const handler = this.handlers.get(env.eventType);
    if (!handler) {
      logger().debug('no handler for event type; ignored');
      return { result: undefined, messages: [] };
    }
    const started = performance.now();
    // Outbox times are wall-clock times (the sender's), whatever the campaign clock says.
    // Events of a local session (terminal chat, web console: ids `local_…`) must never make the bot talk to Lark,
    // even when a handler addresses a person by open_id (a check-in confirmation, a form).
    const sink = new BufferedSink(systemClock, env.eventId.startsWith('local_'));
    try {
      const ctx: HandlerContext = {
        eventId: env.eventId,
        get logger() {
          return logger();
        },
        clock: this.deps.clock,
        outbox: sink,
      };
      const result = await handler(env, ctx);
      this.deps.metrics?.handlerSeconds.observe({ type: env.eventType, outcome: 'ok' }, (performance.now() - started) / 1000);
      return { result, messages: sink.rows };
    } catch (e) {
      this.deps.metrics?.handlerSeconds.observe({ type: env.eventType, outcome: 'error' }, (performance.now() - started) / 1000);
      logger().error({ err: e }, 'event handler failed');
      throw e;
    }
  }

  /** Resolves when every handler started so far (and any they started) has finished. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }
}
