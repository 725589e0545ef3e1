/**
 * Sliding-window send limits (Lark: 50/s and 1000/min per app for im/v1/messages,
 * 5/s to one user or one chat). Exact windows rather than token buckets, so a
 * burst at a second's edge can never exceed the published limit.
 */
export interface RateLimits {
  perAppPerSecond: number;
  perAppPerMinute: number;
  perKeyPerSecond: number;
}

class Window {
  private stamps: number[] = [];
  private head = 0;
  constructor(
    private readonly limit: number,
    private readonly spanMs: number,
  ) {}
  private trim(now: number): void {
    while (this.head < this.stamps.length && this.stamps[this.head]! <= now - this.spanMs) this.head++;
    if (this.head > 1024 && this.head * 2 > this.stamps.length) {
      this.stamps = this.stamps.slice(this.head);
      this.head = 0;
    }
  }
  size(now: number): number {
    this.trim(now);
    return this.stamps.length - this.head;
  }
  /** Milliseconds until one more send fits (0 when it fits now). */
  waitMs(now: number): number {
    this.trim(now);
    if (this.stamps.length - this.head < this.limit) return 0;
    return this.stamps[this.stamps.length - this.limit]! + this.spanMs - now;
  }
  take(now: number): void {
    if (this.limit === Infinity) return; // unlimited: keep no history
    this.stamps.push(now);
  }
}

export class RateLimiter {
  private readonly appSecond: Window;
  private readonly appMinute: Window;
  private readonly perKey = new Map<string, Window>();

  constructor(private readonly limits: RateLimits) {
    this.appSecond = new Window(limits.perAppPerSecond, 1000);
    this.appMinute = new Window(limits.perAppPerMinute, 60_000);
  }

  private keyWindow(key: string): Window {
    let w = this.perKey.get(key);
    if (!w) {
      w = new Window(this.limits.perKeyPerSecond, 1000);
      this.perKey.set(key, w);
    }
    return w;
  }

  /** Milliseconds until the app may send anything at all. */
  appWaitMs(now: number): number {
    return Math.max(this.appSecond.waitMs(now), this.appMinute.waitMs(now));
  }

  /** Milliseconds until a send to `key` is allowed. */
  waitMs(key: string, now: number): number {
    return Math.max(this.appSecond.waitMs(now), this.appMinute.waitMs(now), this.keyWindow(key).waitMs(now));
  }

  /** Takes a slot for `key` if all windows allow it. */
  tryTake(key: string, now: number): boolean {
    if (this.waitMs(key, now) > 0) return false;
    this.appSecond.take(now);
    this.appMinute.take(now);
    this.keyWindow(key).take(now);
    if (this.perKey.size > 10_000) this.sweep(now);
    return true;
  }

  private sweep(now: number): void {
    for (const [k, w] of this.perKey) if (w.size(now) === 0) this.perKey.delete(k);
  }
}
