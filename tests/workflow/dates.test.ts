import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { parseStageCommand } from '../../src/handlers/workflow/grammar.js';
import { futureDateRefusal, MAX_DAYS_BACK, readDate, todayIn } from '../../src/workflow/dates.js';

/**
 * Issue 17 item 5: one reading of dates for chat words and card forms (readDate), Asia/Shanghai
 * whatever the host's zone. Each row: what was sent, the campaign's today, and the day it means
 * ('refused' with the words the refusal must contain; null: not a date, left as a note).
 */
const TODAY = '2026-11-05';
type Want = string | null | { refused: RegExp };
const TABLE: [text: string, want: Want][] = [
  ['2026-11-02', '2026-11-02'],
  ['2026/11/2', '2026-11-02'],
  ['2026年11月2日', '2026-11-02'],
  ['11月2日', '2026-11-02'],
  ['今天', TODAY],
  ['昨天', '2026-11-04'],
  ['3天前', '2026-11-02'],
  // Full-width digits and separators, as Chinese input methods type them.
  ['３天前', '2026-11-02'],
  ['１１月２日', '2026-11-02'],
  ['２０２６－１１－０２', '2026-11-02'],
  ['２０２６年１１月２日', '2026-11-02'],
  // A card's date picker: the day picked, its offset ignored.
  ['2026-11-02 +0800', '2026-11-02'],
  ['2026-11-02 -0500', '2026-11-02'],
  // Read as dates; whether a future one is allowed is the caller's rule (futureDateRefusal).
  ['明天', '2026-11-06'],
  // Days that do not exist.
  ['2月30日', { refused: /不是有效日期.*请写实际日期/ }],
  ['13月1日', { refused: /不是有效日期/ }],
  ['2026-02-29', { refused: /不是有效日期/ }],
  ['2026-13-01', { refused: /不是有效日期/ }],
  ['2026-11-31 +0800', { refused: /不是有效日期/ }],
  // Before the campaign (more than MAX_DAYS_BACK days back).
  ['1900年1月1日', { refused: /1900年1月1日，早于本次换届.*最早可登记 2025年11月4日.*请写实际日期/ }],
  ['1900-01-01 +0800', { refused: /早于本次换届/ }],
  ['1999-12-31', { refused: /早于本次换届/ }],
  ['1899-12-31', { refused: /早于本次换届/ }],
  ['2025-11-03', { refused: /早于本次换届/ }],
  ['400天前', { refused: /早于本次换届/ }],
  // Exactly one campaign back is still allowed.
  ['2025-11-04', '2025-11-04'],
  [`${MAX_DAYS_BACK}天前`, '2025-11-04'],
  // Not dates.
  ['参选率94%', null],
  ['城西村', null],
  ['94', null],
];

describe('readDate: one table of dates', () => {
  it.each(TABLE)('%s → %o', (text, want) => {
    const r = readDate(text, TODAY);
    if (want === null) expect(r).toBeNull();
    else if (typeof want === 'string') expect(r).toEqual({ kind: 'date', date: want });
    else {
      expect(r?.kind).toBe('refused');
      expect(r?.kind === 'refused' && r.message).toMatch(want.refused);
    }
  });

  it('the chat grammar refuses with the same words (2月30日, 1900年)', () => {
    for (const [text, want] of TABLE) {
      if (want === null || typeof want === 'string' || text.includes(' ')) continue;
      const r = readDate(text, TODAY);
      let thrown: unknown;
      try {
        parseStageCommand('完成', ['城西村', '审计', text], TODAY);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, text).toBeInstanceOf(UserError);
      expect((thrown as UserError).userMessage).toBe(r?.kind === 'refused' ? r.message : '');
    }
  });

  it('future dates are refused for what was done, saying what to send instead', () => {
    expect(futureDateRefusal('2026-11-06', TODAY)).toMatch(/^日期 11月6日 还没到，不能登记未来的日期（今天是 11月5日）。已经完成的请写实际完成的日期，例如 今天 或 昨天。$/);
    expect(futureDateRefusal(TODAY, TODAY)).toBeNull();
    expect(futureDateRefusal('2026-11-04', TODAY)).toBeNull();
  });
});

describe('today is the campaign day of the message, whatever the host time zone', () => {
  const hostTz = process.env.TZ;
  afterAll(() => {
    if (hostTz === undefined) delete process.env.TZ;
    else process.env.TZ = hostTz;
  });
  // 23:59:52 and 00:00:05 Shanghai time around midnight between 11-05 and 11-06.
  const beforeMidnight = Date.parse('2026-11-05T23:59:52+08:00');
  const afterMidnight = Date.parse('2026-11-06T00:00:05+08:00');
  it.each(['America/Los_Angeles', 'Pacific/Kiritimati', 'UTC', 'Asia/Shanghai'])('host TZ=%s', (tz) => {
    process.env.TZ = tz;
    // The host's own idea of the day differs (Los Angeles is still on 11-05 morning, Kiritimati on 11-06).
    expect(new Date(beforeMidnight).getTimezoneOffset()).toBe(tz === 'America/Los_Angeles' ? 480 : tz === 'Pacific/Kiritimati' ? -840 : tz === 'UTC' ? 0 : -480);
    const day = todayIn('Asia/Shanghai', beforeMidnight);
    expect(day).toBe('2026-11-05');
    expect(todayIn('Asia/Shanghai', afterMidnight)).toBe('2026-11-06');
    expect(readDate('今天', day)).toEqual({ kind: 'date', date: '2026-11-05' });
    expect(parseStageCommand('完成', ['城西村', '审计', '今天'], day)).toMatchObject({ kind: 'record', date: '2026-11-05' });
    expect(readDate('2026-11-05 +0800', day)).toEqual({ kind: 'date', date: '2026-11-05' });
    expect(futureDateRefusal('2026-11-06', day)).not.toBeNull();
  });
});
