/**
 * Send limits (Lark: 50/s and 1000/min per app for im/v1/messages, 5/s to one
 * user or one chat), enforced so that Lark can never see more than the limit in
 * any window, whatever the network latency: a send counts from the moment it is
 * started until one window after it finished. (Lark counts arrivals, which lie
 * somewhere between our start and our finish.)
 */
export interface RateLimits {
  perAppPerSecond: number;
  perAppPerMinute: number;
  perKeyPerSecond: number;
}

/** Sliding window over finished sends, plus the sends still in flight. */
class Window {
  private done: number[] = [];
  private head = 0;
  inflight = 0;
  constructor(
    private readonly limit: number,
    private readonly spanMs: number,
  ) {}

  private trim(now: number): void {
    while (this.head < this.done.length && this.done[this.head]! <= now - this.spanMs) this.head++;
    if (this.head > 1024 && this.head * 2 > this.done.length) {
      this.done = this.done.slice(this.head);
      this.head = 0;
    }
  }

  /** Milliseconds until one more send fits under `limit` (default the window's): 0 now, Infinity until a send in flight finishes. */
  waitMs(now: number, limit = this.limit): number {
    if (limit === Infinity) return 0;
    this.trim(now);
    const finished = this.done.length - this.head;
    if (this.inflight + finished < limit) return 0;
    const mustExpire = this.inflight + finished - limit + 1;
    if (mustExpire > finished) return Infinity;
    return this.done[this.head + mustExpire - 1]! + this.spanMs - now;
  }

  start(): void {
    if (this.limit !== Infinity) this.inflight++;
  }

  finish(at: number): void {
    if (this.limit === Infinity) return;
    this.inflight--;
    // Finish times arrive almost in order; keep the array sorted for waitMs.
    let i = this.done.length;
    this.done.push(at);
    while (i > this.head && this.done[i - 1]! > at) {
      this.done[i] = this.done[i - 1]!;
      i--;
    }
    this.done[i] = at;
  }

  idle(now: number): boolean {
    this.trim(now);
    return this.inflight === 0 && this.done.length === this.head;
  }
}

/**
 * The share of the per-app limits bulk sends may not use (issue 17): whatever reminders and digests
 * do, a reply finds room in the app's windows at once. Interactive sends may use the whole limit.
 */
export const INTERACTIVE_RESERVE = 0.2;

/** The per-app limits left to bulk sends: at least one a window, so bulk never stops entirely. */
export function bulkLimits(limits: RateLimits, reserve = INTERACTIVE_RESERVE): { perAppPerSecond: number; perAppPerMinute: number } {
  const share = (n: number) => (n === Infinity ? Infinity : Math.max(1, Math.floor(n * (1 - reserve))));
  return { perAppPerSecond: share(limits.perAppPerSecond), perAppPerMinute: share(limits.perAppPerMinute) };
}

export class RateLimiter {
  private readonly appSecond: Window;
  private readonly appMinute: Window;
  private readonly perKey = new Map<string, Window>();
  private readonly bulk: { perAppPerSecond: number; perAppPerMinute: number };

  constructor(
    private readonly limits: RateLimits,
    reserve = INTERACTIVE_RESERVE,
  ) {
    this.appSecond = new Window(limits.perAppPerSecond, 1000);
    this.appMinute = new Window(limits.perAppPerMinute, 60_000);
    this.bulk = bulkLimits(limits, reserve);
  }

  private keyWindow(key: string): Window {
    let w = this.perKey.get(key);
    if (!w) {
      w = new Window(this.limits.perKeyPerSecond, 1000);
      this.perKey.set(key, w);
    }
    return w;
  }

  /**
   * Milliseconds until the app may start any send (Infinity: wait for one in flight to finish).
   * bulk: a bulk send, which leaves the interactive reserve of each window alone.
   */
  appWaitMs(now: number, bulk = false): number {
    return bulk
      ? Math.max(this.appSecond.waitMs(now, this.bulk.perAppPerSecond), this.appMinute.waitMs(now, this.bulk.perAppPerMinute))
      : Math.max(this.appSecond.waitMs(now), this.appMinute.waitMs(now));
  }

  /** Milliseconds until a send to `key` may start. */
  waitMs(key: string, now: number, bulk = false): number {
    return Math.max(this.appWaitMs(now, bulk), this.keyWindow(key).waitMs(now));
  }

  /** Starts a send to `key` if every window allows it; call the returned function when it has finished. */
  tryTake(key: string, now: number, bulk = false): ((finishedAt: number) => void) | null {
    if (this.waitMs(key, now, bulk) > 0) return null;
    const w = this.keyWindow(key);
    this.appSecond.start();
    this.appMinute.start();
    w.start();
    return (at) => {
      this.appSecond.finish(at);
      this.appMinute.finish(at);
      w.finish(at);
      if (this.perKey.size > 10_000) this.sweep(at);
    };
  }

  private sweep(now: number): void {
    for (const [k, w] of this.perKey) if (w.idle(now)) this.perKey.delete(k);
  }
}
