import { describe, expect, it } from 'vitest';
import type { OpenItem } from '../../../src/workflow/reminders/open-items.js';
import { selectMessages, type Leaders } from '../../../src/workflow/reminders/select.js';
import type { Person } from '../../../src/workflow/types.js';

const person = (id: number, role: Person['role'] = '干部', scopeId: number | null = 10): Person => ({ id, name: `人${id}`, openId: `ou_${id}`, phone: null, email: null, role, scopeId });
const cadre = person(1);
const cadre2 = person(2);
const townLeader = person(3, '领导', 10);
const countyLeader = person(4, '领导', 1);
const leaders: Leaders = { ofTownship: (id) => (id === 10 ? [townLeader] : []), ofCounty: (id) => (id === 1 ? [countyLeader] : []) };

const item = (key: string, due: string, assignees: Person[] = [cadre], townshipId = 10): OpenItem => ({
  key, kind: 'stage', villageId: 100, village: '城西村', townshipId, township: '沁河镇', countyId: 1, what: key, stageKey: key, due, assignees,
});
const none = () => undefined;
const never = () => false;

describe('which reminders a day brings', () => {
  it('reminds 3 days before, 1 day before, on the day and every day overdue — nothing 2 days before', () => {
    const due = '2026-11-20';
    const on = (day: string) => selectMessages([item('审计', due)], day, leaders, none, never).filter((m) => m.kind === 'reminder').length;
    expect(['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21', '2026-11-25'].map(on)).toEqual([0, 1, 0, 1, 1, 1, 1]);
  });

  it('batches all of a person’s items into one message, sorted by due date', () => {
    const msgs = selectMessages([item('b', '2026-11-21'), item('a', '2026-11-19'), item('c', '2026-11-23', [cadre, cadre2])], '2026-11-20', leaders, none, never);
    const mine = msgs.filter((m) => m.to.id === 1);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.items.map((i) => i.key)).toEqual(['a', 'b', 'c']);
    expect(mine[0]!.items.map((i) => i.overdueDays)).toEqual([1, -1, -3]);
    expect(msgs.find((m) => m.to.id === 2)!.items.map((i) => i.key)).toEqual(['c']);
  });

  it('escalates to the township leader on the day an item is 2 days overdue, naming who is responsible', () => {
    const msgs = selectMessages([item('审计', '2026-11-18', [cadre, cadre2])], '2026-11-20', leaders, none, never);
    const esc = msgs.filter((m) => m.kind === 'escalation');
    expect(esc.map((m) => m.to.id)).toEqual([3]);
    expect(esc[0]!.items[0]!.responsible).toEqual(['人1', '人2']);
    expect(esc[0]!.items[0]!.catchUp).toBeUndefined();
    expect(selectMessages([item('审计', '2026-11-17')], '2026-11-20', leaders, none, never).some((m) => m.kind === 'escalation')).toBe(true);
  });

  it('escalates a deadline once: not again once recorded, and never before day 2', () => {
    const escalated = (key: string, due: string) => key === '审计' && due === '2026-11-18';
    const kinds = (due: string, day: string) => selectMessages([item('审计', due)], day, leaders, none, escalated).map((m) => m.kind);
    expect(kinds('2026-11-18', '2026-11-21')).toEqual(['reminder']);
    expect(kinds('2026-11-18', '2026-11-20')).toEqual(['reminder']);
    expect(kinds('2026-11-19', '2026-11-20')).toEqual(['reminder']);
    // The same item with a moved deadline is a new deadline: escalated when that one is missed too.
    expect(kinds('2026-11-25', '2026-11-27')).toEqual(['reminder', 'escalation']);
  });

  it('catches up an item never escalated that is past day 2, marked as such, all in one message per leader', () => {
    const items = [item('审计', '2026-11-10'), item('公示', '2026-11-12'), item('登记', '2026-11-18')];
    const esc = selectMessages(items, '2026-11-20', leaders, none, never).filter((m) => m.kind === 'escalation');
    expect(esc.map((m) => m.to.id)).toEqual([3]);
    expect(esc[0]!.items.map((i) => [i.key, i.overdueDays, i.catchUp ?? false])).toEqual([
      ['审计', 10, true],
      ['公示', 8, true],
      ['登记', 2, false],
    ]);
  });

  it('escalates to the county leader when the township has none', () => {
    const msgs = selectMessages([item('审计', '2026-11-18', [cadre], 99)], '2026-11-20', leaders, none, never);
    expect(msgs.filter((m) => m.kind === 'escalation').map((m) => m.to.id)).toEqual([4]);
  });

  it('leaves a snoozed item out until the snooze ends, for that person only', () => {
    const snoozed = (openId: string, key: string) => (openId === 'ou_1' && key === '审计' ? '2026-11-22' : undefined);
    const items = [item('审计', '2026-11-19', [cadre, cadre2])];
    expect(selectMessages(items, '2026-11-21', leaders, snoozed, never).filter((m) => m.kind === 'reminder').map((m) => m.to.id)).toEqual([2]);
    expect(selectMessages(items, '2026-11-22', leaders, snoozed, never).filter((m) => m.kind === 'reminder').map((m) => m.to.id)).toEqual([1, 2]);
  });
});
