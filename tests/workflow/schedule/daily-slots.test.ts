import { describe, expect, it } from 'vitest';
import { todayIn } from '../../../src/workflow/dates.js';
import { afterQuiet, isQuiet, slotOn, slotsBetween } from '../../../src/workflow/schedule/daily-slots.js';

const TZ = 'Asia/Shanghai';
const Q = { start: '22:00', end: '07:30' };
const at = (s: string) => Date.parse(s);

describe('daily slots in the campaign time zone', () => {
  it('lists 09:00 Shanghai slots between two instants', () => {
    const s = slotsBetween('09:00', TZ, at('2026-11-19T12:00:00Z'), at('2026-11-22T01:00:00Z'));
    expect(s).toEqual([
      { date: '2026-11-20', at: at('2026-11-20T01:00:00Z') },
      { date: '2026-11-21', at: at('2026-11-21T01:00:00Z') },
      { date: '2026-11-22', at: at('2026-11-22T01:00:00Z') },
    ]);
    expect(slotOn('2026-11-20', '08:30', TZ).at).toBe(at('2026-11-20T00:30:00Z'));
    expect(todayIn(TZ, at('2026-11-20T16:30:00Z'))).toBe('2026-11-21');
  });

  it('knows quiet hours that wrap past midnight, and when they end', () => {
    expect(isQuiet(at('2026-11-20T14:30:00Z'), Q, TZ)).toBe(true); // 22:30
    expect(isQuiet(at('2026-11-20T23:00:00Z'), Q, TZ)).toBe(true); // 07:00
    expect(isQuiet(at('2026-11-20T23:30:00Z'), Q, TZ)).toBe(false); // 07:30
    expect(isQuiet(at('2026-11-20T13:59:00Z'), Q, TZ)).toBe(false); // 21:59
    expect(isQuiet(at('2026-11-20T14:30:00Z'), undefined, TZ)).toBe(false);
    expect(afterQuiet(at('2026-11-20T14:30:00Z'), Q, TZ)).toBe(at('2026-11-20T23:30:00Z'));
    expect(afterQuiet(at('2026-11-20T05:00:00Z'), Q, TZ)).toBe(at('2026-11-20T05:00:00Z'));
    expect(isQuiet(at('2026-11-20T05:00:00Z'), { start: '12:00', end: '14:00' }, TZ)).toBe(true); // 13:00, same-day window
  });
});
