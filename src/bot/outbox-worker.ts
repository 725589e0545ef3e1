import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { PRIORITY, type OutboxRepo, type OutboxRow } from '../store/outbox-repo.js';
import { bulkLimits, INTERACTIVE_RESERVE, RateLimiter, type RateLimits } from './rate-limiter.js';
import type { SendOutcome, Transport } from './transport.js';

export interface OutboxWorkerOptions {
  repo: OutboxRepo;
  transport: Transport;
  logger: Logger;
  metrics?: Metrics;
  limits: RateLimits;
  /** Real time: rate windows and backoff are about the wall clock, not the campaign's clock. */
  clock?: Clock;
  concurrency?: number;
  maxAttempts?: number;
  pollMs?: number;
  /** First retry delay after a 5xx or network error; doubles each attempt. */
  backoffBaseMs?: number;
  /** The share of the per-app limits (and of the concurrency) bulk sends leave to interactive ones (default 0.2). */
  interactiveReserve?: number;
}

const isBulk = (row: OutboxRow): boolean => row.priority !== PRIORITY.interactive;

/** Exponential backoff for 5xx and network errors: 1 s, 2 s, 4 s … capped at 5 min. */
export function backoffMs(attempt: number, baseMs = 1000): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 300_000);
}

/** PostgreSQL: how often a live instance looks for rows left 'sending' by a dead one. */
export const RELEASE_DEAD_EVERY_MS = 5000;

/**
 * Sends what the outbox holds. A row is claimed (pending → sending) before its
 * send, so two loops never send it at once; a row left 'sending' by a crash is
 * released on start and sent again with the same uuid, which Lark keeps once.
 *
 * On PostgreSQL several instances share the outbox: rows are claimed in batches
 * with FOR UPDATE SKIP LOCKED (repo.claimDue), a dead instance's claims are
 * released by the live ones as soon as its lock is gone (repo.releaseDead; never
 * "everything claimed before now", which would steal a live instance's sends),
 * and Lark's per-app limits are shared by counting every instance's recent sends.
 *
 * Two lanes (issue 17): replies to events (priority 0) are taken before bulk sends (reminders,
 * digests), and bulk may use only 80 % of the per-app limits and of the concurrency, so at the
 * daily reminder burst a reply still leaves at once instead of after the whole slot.
 */
export class OutboxWorker {
  private readonly limiter: RateLimiter;
  private readonly clock: Clock;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly pollMs: number;
  private inflight = new Set<Promise<void>>();
  /** Receivers with a send in flight: one at a time each, so a chat sees its messages in order. */
  private busyKeys = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private ticking = false;
  private again = false;
  private idleWaiters: (() => void)[] = [];
  /** Send results the database could not take yet (disk full); retried each tick. The rows stay 'sending' meanwhile. */
  private unrecorded: (() => void)[] = [];
  /** PostgreSQL: rows this instance claimed that wait for a local rate window before their send. */
  private held: OutboxRow[] = [];
  private lastRelease = 0;
  /** Slots bulk sends may fill (in flight plus held); the rest wait for interactive ones. */
  private readonly bulkSlots: number;
  private bulkBusy = 0;
  private readonly bulkAppLimits: { perAppPerSecond: number; perAppPerMinute: number };

  constructor(private readonly o: OutboxWorkerOptions) {
    // Lark's limits only bind a transport that talks to Lark (offline mode just logs).
    const reserve = o.interactiveReserve ?? INTERACTIVE_RESERVE;
    this.limiter = new RateLimiter(
      o.transport.rateLimited
        ? o.limits
        : { perAppPerSecond: Infinity, perAppPerMinute: Infinity, perKeyPerSecond: Infinity },
      reserve,
    );
    this.bulkAppLimits = bulkLimits(o.limits, reserve);
    this.clock = o.clock ?? systemClock;
    this.concurrency = o.concurrency ?? 16;
    this.bulkSlots = Math.max(1, Math.floor(this.concurrency * (1 - reserve)));
    this.maxAttempts = o.maxAttempts ?? 12;
    this.pollMs = o.pollMs ?? 1000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // SQLite has one sending process, so whatever is 'sending' now was left by the previous one.
    // PostgreSQL: only the claims of instances that are gone (another may be sending right now).
    const released = this.o.repo.shared ? this.releaseDead(this.clock.now()) : this.o.repo.releaseStale(this.clock.now() + 1);
    if (released) this.o.logger.warn({ released }, 'outbox: resending messages left unconfirmed by the previous process');
    this.notify();
  }

  /** Wake the loop now (called when a message is enqueued). */
  notify(): void {
    if (!this.running) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick();
    }, Math.max(0, ms));
    this.timer.unref?.();
  }

  private tick(): void {
    this.ticking = true;
    let wait = this.pollMs;
    try {
      for (const record of this.unrecorded.splice(0)) {
        try {
          record();
        } catch {
          this.unrecorded.push(record);
        }
      }
      const now = this.clock.now();
      wait = Math.min(wait, this.o.repo.shared ? this.tickShared(now) : this.tickLocal(now));
    } catch (e) {
      this.o.logger.error({ err: e }, 'outbox: scan failed');
    } finally {
      this.ticking = false;
    }
    if (this.again) {
      this.again = false;
      wait = 0;
    }
    this.schedule(wait);
    this.checkIdle();
  }

  /** One pass on SQLite (one sending process): scan due rows, claim them one by one. Returns the wait. */
  private tickLocal(now: number): number {
    let wait = this.pollMs;
    const free = this.concurrency - this.inflight.size;
    const appWait = this.limiter.appWaitMs(now);
    if (appWait > 0) {
      // The app's window is full: nothing can go out before it frees, so don't scan
      // (a send finishing wakes the loop too).
      wait = Math.min(wait, appWait);
    } else if (free > 0) {
      // The bulk lane full (its share of the app's windows, or of the slots): look at interactive rows only.
      const bulkWait = this.bulkBusy >= this.bulkSlots ? Infinity : this.limiter.appWaitMs(now, true);
      const max = bulkWait > 0 ? PRIORITY.interactive : PRIORITY.bulk;
      if (bulkWait > 0 && Number.isFinite(bulkWait)) wait = Math.min(wait, bulkWait);
      const batch = Math.max(free * 8, 64);
      let rows = this.o.repo.listDue(now, batch, max);
      let started = this.startRows(rows, free, now);
      if (started.count === 0 && rows.length === batch) {
        // The oldest rows all belong to busy or rate-limited receivers: look one row per receiver.
        rows = this.o.repo.listDuePerReceiver(now, batch, max);
        started = this.startRows(rows, free, now);
      }
      if (started.rateWait !== null) wait = Math.min(wait, started.rateWait);
      // Rows due now but held back (busy receiver, full concurrency) are picked up when a send finishes.
      const next = this.o.repo.nextDueAt();
      if (next !== null && next > now) wait = Math.min(wait, next - now);
    }
    return wait;
  }

  private releaseDead(now: number): number {
    this.lastRelease = now;
    return this.o.repo.releaseDead(now);
  }

  /**
   * One pass on PostgreSQL: release a dead instance's claims now and then, claim what fits in the
   * free slots and in the app's budget shared by every instance, start what the local windows allow.
   * Returns how long to wait before the next pass.
   */
  private tickShared(now: number): number {
    let wait = this.pollMs;
    if (now - this.lastRelease >= RELEASE_DEAD_EVERY_MS) {
      const released = this.releaseDead(now);
      if (released) this.o.logger.warn({ released }, 'outbox: resending messages claimed by an instance that is gone');
    }
    const free = this.concurrency - this.inflight.size - this.held.length;
    if (free > 0 && this.limiter.appWaitMs(now) === 0) {
      let budget = free;
      let bulkBudget = Math.min(free, this.bulkSlots - this.bulkBusy);
      if (this.o.transport.rateLimited) {
        const s = this.o.repo.sharedSends(now);
        const second = this.o.limits.perAppPerSecond - s.lastSecond - s.sending;
        const minute = this.o.limits.perAppPerMinute - s.lastMinute - s.sending;
        budget = Math.min(budget, second, minute);
        // Bulk leaves the interactive reserve of every instance's shared windows alone.
        const bulkSecond = this.bulkAppLimits.perAppPerSecond - s.lastSecond - s.sending;
        const bulkMinute = this.bulkAppLimits.perAppPerMinute - s.lastMinute - s.sending;
        bulkBudget = Math.min(bulkBudget, budget, bulkSecond, bulkMinute);
        // The whole app is at its limit: look again when a second (or the minute's oldest send) has passed.
        if (budget <= 0) wait = Math.min(wait, minute <= 0 ? 1000 : 100);
        else if (bulkBudget <= 0) wait = Math.min(wait, bulkMinute <= 0 ? 1000 : 100);
      }
      if (budget > 0) {
        // Interactive rows first, with the whole budget; then bulk rows with what bulk may still use.
        const replies = this.o.repo.claimDue(now, budget, PRIORITY.interactive);
        this.claimed(replies);
        const rest = Math.min(budget - replies.length, bulkBudget);
        if (rest > 0) this.claimed(this.o.repo.claimDue(now, rest));
      }
    }
    const rateWait = this.startHeld(now);
    if (rateWait !== null) wait = Math.min(wait, rateWait);
    const next = this.o.repo.nextDueAt();
    if (next !== null && next > now) wait = Math.min(wait, next - now);
    return wait;
  }

  /** Rows this instance now holds ('sending', ours); bulk ones count against the bulk slots until their send ends. */
  private claimed(rows: OutboxRow[]): void {
    for (const row of rows) if (isBulk(row)) this.bulkBusy++;
    this.held.push(...rows);
  }

  /** Starts the claimed rows whose windows allow, interactive ones first; the others stay held (still 'sending', ours). */
  private startHeld(now: number): number | null {
    let rateWait: number | null = null;
    const keep: OutboxRow[] = [];
    this.held.sort((a, b) => a.priority - b.priority);
    for (const row of this.held) {
      const finished = this.busyKeys.has(row.rate_key) ? null : this.limiter.tryTake(row.rate_key, now, isBulk(row));
      if (!finished) {
        keep.push(row);
        const w = this.limiter.waitMs(row.rate_key, now, isBulk(row));
        if (Number.isFinite(w)) rateWait = Math.min(rateWait ?? w, Math.max(w, 1));
        continue;
      }
      // claimDue returned the row as updated (attempts already counted); its bulk slot is already counted.
      this.launch(row, finished, false);
    }
    this.held = keep;
    return rateWait;
  }

  /** Claims and starts rows while capacity and rate limits allow. */
  private startRows(rows: OutboxRow[], free: number, now: number): { count: number; rateWait: number | null } {
    let count = 0;
    let rateWait: number | null = null;
    for (const row of rows) {
      if (count >= free) break;
      if (this.busyKeys.has(row.rate_key)) continue;
      const bulk = isBulk(row);
      if (bulk && this.bulkBusy >= this.bulkSlots) continue;
      const w = this.limiter.waitMs(row.rate_key, now, bulk);
      if (w > 0) {
        rateWait = Math.min(rateWait ?? w, w);
        continue;
      }
      if (!this.o.repo.claim(row.id, now)) continue;
      count++;
      this.launch({ ...row, attempts: row.attempts + 1 }, this.limiter.tryTake(row.rate_key, now, bulk), bulk);
    }
    return { count, rateWait };
  }

  /** Sends a claimed row; its receiver (and a bulk row's slot) is busy until the send ends, when its rate window is told. */
  private launch(row: OutboxRow, finished: ((at: number) => void) | null | undefined, countBulk: boolean): void {
    this.busyKeys.add(row.rate_key);
    if (countBulk) this.bulkBusy++;
    const bulk = isBulk(row);
    this.track(
      this.sendOne(row).finally(() => {
        finished?.(this.clock.now());
        this.busyKeys.delete(row.rate_key);
        if (bulk) this.bulkBusy--;
      }),
    );
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => {
      this.inflight.delete(p);
      this.notify();
      this.checkIdle();
    });
  }

  private async sendOne(row: OutboxRow): Promise<void> {
    let outcome: SendOutcome;
    try {
      outcome = await this.o.transport.send(row);
    } catch (e) {
      outcome = { kind: 'retryable', code: null, error: e instanceof Error ? e.message : String(e) };
    }
    const now = this.clock.now();
    this.o.metrics?.sends.inc({ result: outcome.kind });
    const log = this.o.logger.child({ outbox: row.id, intent: row.intent, attempt: row.attempts });
    const result = outcome;
    const record = (): void => this.record(row, result, now, log);
    try {
      record();
    } catch (e) {
      // Sent (or refused) but not written down, e.g. the disk is full: write it later. Thrown from here it
      // would be an unhandled rejection, which ends the process.
      log.error({ err: e }, 'outbox: could not record the result of a send; will retry');
      this.unrecorded.push(record);
    }
  }

  private record(row: OutboxRow, outcome: SendOutcome, now: number, log: Logger): void {
    switch (outcome.kind) {
      case 'sent':
        this.o.repo.markSent(row.id, now, outcome.messageId);
        return;
      case 'offline':
        this.o.repo.markOffline(row.id, now);
        return;
      case 'rejected':
        log.warn({ code: outcome.code, error: outcome.error }, 'outbox: Lark refused the message; not retried');
        this.o.repo.markFailed(row.id, now, outcome.code, outcome.error);
        return;
      case 'rate_limited':
        log.info({ retry_in_ms: outcome.retryAfterMs }, 'outbox: rate limited by Lark');
        this.o.repo.markRetry(row.id, now + outcome.retryAfterMs, outcome.error, outcome.code);
        return;
      case 'retryable':
        if (row.attempts >= this.maxAttempts) {
          log.error({ error: outcome.error }, 'outbox: giving up after repeated failures');
          this.o.repo.markFailed(row.id, now, outcome.code, `gave up after ${row.attempts} attempts: ${outcome.error}`);
        } else {
          const delay = backoffMs(row.attempts, this.o.backoffBaseMs);
          log.warn({ error: outcome.error, retry_in_ms: delay }, 'outbox: send failed, will retry');
          this.o.repo.markRetry(row.id, now + delay, outcome.error, outcome.code);
        }
        return;
    }
  }

  private checkIdle(): void {
    if (this.inflight.size > 0 || this.held.length > 0 || this.idleWaiters.length === 0) return;
    const now = this.clock.now();
    if (this.o.repo.listDue(now, 1).length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when nothing is in flight and nothing is due right now (retries scheduled later may remain). */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.notify();
      this.checkIdle();
    });
  }

  /** Stops taking new rows and waits for in-flight sends to finish. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.inflight]);
    // Claimed but never started: back to the queue for whichever instance is next.
    const now = this.clock.now();
    for (const row of this.held.splice(0)) {
      if (isBulk(row)) this.bulkBusy--;
      try {
        this.o.repo.markRetry(row.id, now, 'not sent: the instance stopped', null);
      } catch {
        // the database is gone; the row is released once this instance's lock is (releaseDead)
      }
    }
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
