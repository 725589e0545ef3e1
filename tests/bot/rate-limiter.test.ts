import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/bot/rate-limiter.js';

const limits = { perAppPerSecond: 50, perAppPerMinute: 1000, perKeyPerSecond: 5 };

describe('RateLimiter', () => {
  it('allows at most 5 sends per receiver in a window, counting a send until a second after it finished', () => {
    const l = new RateLimiter(limits);
    const done: ((t: number) => void)[] = [];
    for (let i = 0; i < 10; i++) {
      const f = l.tryTake('ou_a', 1000);
      if (f) done.push(f);
    }
    expect(done).toHaveLength(5);
    expect(l.waitMs('ou_a', 1000)).toBe(Infinity); // all five still in flight
    for (const f of done) f(1200);
    expect(l.waitMs('ou_a', 1500)).toBe(700); // free one second after they finished, not after they started
    expect(l.tryTake('ou_b', 1500)).not.toBeNull();
    expect(l.tryTake('ou_a', 2200)).not.toBeNull();
  });

  it('allows at most 50 per app in any second and 1000 in any minute', () => {
    const l = new RateLimiter(limits);
    let t = 0;
    let first = 0;
    for (let i = 0; i < 100; i++) {
      const f = l.tryTake(`k${i}`, t);
      if (f) {
        first++;
        f(t);
      }
    }
    expect(first).toBe(50);
    let total = 50;
    for (t = 1000; t < 60_000; t += 1000)
      for (let i = 0; i < 100; i++) {
        const f = l.tryTake(`k${t}-${i}`, t);
        if (f) {
          total++;
          f(t);
        }
      }
    expect(total).toBe(1000);
    expect(l.tryTake('late', 59_999)).toBeNull();
    expect(l.tryTake('late', 60_000)).not.toBeNull();
  });

  it('keeps a fifth of the per-app windows for interactive sends: bulk stops at 40/s and 800/min, a reply still fits', () => {
    const l = new RateLimiter(limits);
    let bulk = 0;
    for (let i = 0; i < 100; i++) if (l.tryTake(`b${i}`, 0, true)) bulk++;
    expect(bulk).toBe(40);
    expect(l.appWaitMs(0, true)).toBe(Infinity); // until one of them finishes
    expect(l.appWaitMs(0)).toBe(0);
    let replies = 0;
    for (let i = 0; i < 100; i++) if (l.tryTake(`r${i}`, 0)) replies++;
    expect(replies).toBe(10); // the whole limit is 50
    const m = new RateLimiter(limits);
    let n = 0;
    for (let t = 0; t < 60_000; t += 1000)
      for (let i = 0; i < 50; i++) {
        const f = m.tryTake(`k${t}-${i}`, t, true);
        if (f) {
          n++;
          f(t);
        }
      }
    expect(n).toBe(800);
    expect(m.tryTake('reply', 59_000)).not.toBeNull();
  });

  it('is unlimited when every limit is Infinity, keeping no history', () => {
    const l = new RateLimiter({ perAppPerSecond: Infinity, perAppPerMinute: Infinity, perKeyPerSecond: Infinity });
    for (let i = 0; i < 10_000; i++) l.tryTake('k', 0)!(0);
    expect(l.waitMs('k', 0)).toBe(0);
  });
});
