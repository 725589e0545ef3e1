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
 * How handlers share the event loop with acknowledgements. Handlers never run
 * inside the turn that acknowledges their event: they wait in a queue, and each
 * loop turn starts handlers only until `sliceMs` has passed (at least one), so
 * a burst of questions (each a few ms of retrieval) delays an acknowledgement
 * by about one handler, not by the whole burst. Short turns matter twice: Node
 * accepts one new connection per loop turn (libuv 1.46 in Node 20), so under load long
 * turns leave connections waiting in the kernel's queue for seconds while Lark
 * keeps opening new ones (issue 8, load; tests/faults/load.fault.ts). At most
 * `maxRunning` handlers are unfinished at once (those waiting on a model or an
 * upload). Card callbacks, whose answer Lark waits for, go to the front.
 */
export interface DispatchLimits {
  sliceMs: number;
  maxRunning: number;
}

export const DEFAULT_DISPATCH_LIMITS: DispatchLimits = { sliceMs: 1, maxRunning: 64 };

interface Queued {
  env: LarkEnvelope;
  resolve: (o: HandlerOutcome) => void;
  reject: (e: unknown) => void;
}

/** A FIFO that does not shift arrays (a backlog can be tens of thousands long). */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
}

/**
 * Routes an event to the handler registered for its type and keeps track of
 * what is running, so shutdown can wait for it and tests can await `idle()`.
 * Handlers must be idempotent per event: after a crash an event may run again.
 */
export class Dispatcher {
  private readonly handlers = new Map<string, EventHandler>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly urgent = new Fifo<Queued>();
  private readonly queue = new Fifo<Queued>();
  private running = 0;
  private pumpScheduled = false;
  private readonly limits: DispatchLimits;

  constructor(
    private readonly deps: { logger: Logger; clock: Clock; metrics?: Metrics; limits?: Partial<DispatchLimits> },
  ) {
    this.limits = { ...DEFAULT_DISPATCH_LIMITS, ...deps.limits };
  }

  on(eventType: string, handler: EventHandler): this {
    this.handlers.set(eventType, handler);
    return this;
  }

  handles(eventType: string): boolean {
    return this.handlers.has(eventType);
  }

  /**
   * Queues the handler (it starts on a later loop turn, never inside this call);
   * resolves with its result and messages, rejects with its error (logged with the event id).
   */
  run(env: LarkEnvelope): Promise<HandlerOutcome> {
    const p = new Promise<HandlerOutcome>((resolve, reject) => {
      (env.eventType === 'card.action.trigger' ? this.urgent : this.queue).push({ env, resolve, reject });
    });
    this.schedulePump();
    this.inflight.add(p);
    void p.then(
      () => this.inflight.delete(p),
      () => this.inflight.delete(p),
    );
    return p;
  }

  /** Events waiting for their handler to start (metrics, tests). */
  queued(): number {
    return this.urgent.length + this.queue.length;
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.queued() === 0 || this.running >= this.limits.maxRunning) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  /** One slice: start queued handlers until the slice's time is used up (at least one), then yield to the loop. */
  private pump(): void {
    this.pumpScheduled = false;
    const started = performance.now();
    while (this.running < this.limits.maxRunning) {
      const next = this.urgent.shift() ?? this.queue.shift();
      if (!next) break;
      this.running++;
      this.invoke(next.env)
        .then(next.resolve, next.reject)
        .finally(() => {
          this.running--;
          this.schedulePump();
        });
      if (performance.now() - started >= this.limits.sliceMs) break;
    }
    this.schedulePump();
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
