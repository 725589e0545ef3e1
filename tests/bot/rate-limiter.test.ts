import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/bot/rate-limiter.js';

describe('RateLimiter (sliding windows)', () => {
  it('allows at most 5 per receiver in any second', () => {
    const l = new RateLimiter({ perAppPerSecond: 50, perAppPerMinute: 1000, perKeyPerSecond: 5 });
    let sent = 0;
    for (let i = 0; i < 10; i++) if (l.tryTake('ou_a', 1000)) sent++;
    expect(sent).toBe(5);
    expect(l.waitMs('ou_a', 1500)).toBe(500);
    expect(l.tryTake('ou_b', 1500)).toBe(true);
    expect(l.tryTake('ou_a', 2000)).toBe(true);
  });

  it('allows at most 50 per app in any second and 1000 in any minute', () => {
    const l = new RateLimiter({ perAppPerSecond: 50, perAppPerMinute: 1000, perKeyPerSecond: 5 });
    let t = 0;
    let inFirstSecond = 0;
    for (let i = 0; i < 100; i++) if (l.tryTake(`k${i}`, t)) inFirstSecond++;
    expect(inFirstSecond).toBe(50);
    let total = 50;
    for (t = 1000; t < 60_000; t += 1000) for (let i = 0; i < 100; i++) if (l.tryTake(`k${t}-${i}`, t)) total++;
    expect(total).toBe(1000);
    expect(l.tryTake('late', 59_999)).toBe(false);
    expect(l.tryTake('late', 60_000)).toBe(true);
  });
});
