import { UserError } from '../errors.js';
import type { TalkRow, TalkWithPeople } from '../store/talks-repo.js';
import { applyChange, replayOf, type ChangeResult } from './changes.js';
import { today, type WorkflowContext } from './context.js';
import { formatDateCn, futureDateRefusal, todayIn } from './dates.js';
import { isSuperseded, refuseSuperseded } from './ordering.js';
import { canonicalName, matchName, suggestionText } from './names.js';
import { canWriteTownship, isLeaderOf, type Principal } from './permissions.js';
import type { IsoDate } from './types.js';

/**
 * Talk sessions (谈心谈话): the 五必谈 of seed 002, 选前谈话 with the
 * discipline commitment (seeds 000, 001), 任前谈话 and 落选/离任谈话 (seeds
 * 001, 003). Notes are seen only by the interviewers, leaders of the scope
 * and admins.
 */
export interface TalkCategory {
  name: string;
  aliases: string[];
  group?: '五必谈';
  /** 选前谈话: recording it held needs 纪律承诺书 signed yes/no. */
  commitment?: boolean;
}

export const TALK_CATEGORIES: readonly TalkCategory[] = [
  { name: '五必谈·乡镇党委书记', aliases: ['乡镇党委书记', '党委书记必谈', '书记必谈'], group: '五必谈' },
  { name: '五必谈·合并村两委成员', aliases: ['合并村两委成员', '合并村', '合并村两委'], group: '五必谈' },
  { name: '五必谈·选派支部书记', aliases: ['选派支部书记', '选派书记', '第一书记'], group: '五必谈' },
  { name: '五必谈·村两委主干', aliases: ['村两委主干', '两委主干', '主干'], group: '五必谈' },
  { name: '五必谈·返乡人才', aliases: ['返乡人才', '返乡回村人才', '回村人才', '返乡'], group: '五必谈' },
  { name: '选前谈话', aliases: ['选前', '承诺谈话', '候选人谈话', '纪律谈话'], commitment: true },
  { name: '任前谈话', aliases: ['任前', '任职谈话'] },
  { name: '落选/离任谈话', aliases: ['落选谈话', '离任谈话', '落选', '离任', '疏导谈话', '落选离任谈话'] },
];

export function findTalkCategory(text: string): TalkCategory | undefined {
  const r = matchName(text, TALK_CATEGORIES.map((c) => ({ value: c, label: c.name, names: [c.name, ...c.aliases] })));
  return r.kind === 'found' ? r.value : undefined;
}

export function talkCategory(name: string): TalkCategory | undefined {
  return TALK_CATEGORIES.find((c) => c.name === name);
}

/** Where a talk belongs, for permission checks and display. */
export interface TalkPlace {
  label: string;
  townshipId: number;
  countyId: number;
  villageId: number | null;
}

export function talkPlace(ctx: WorkflowContext, regionId: number): TalkPlace {
  const v = ctx.repos.roster.village(regionId);
  if (v) return { label: `${v.township}${v.name}`, townshipId: v.townshipId, countyId: v.countyId, villageId: v.id };
  const t = ctx.repos.roster.region(regionId);
  return { label: t?.name ?? String(regionId), townshipId: regionId, countyId: t?.parentId ?? -1, villageId: null };
}

export function canWriteTalk(ctx: WorkflowContext, p: Principal, talk: TalkWithPeople): boolean {
  if (p.isAdmin) return true;
  if (p.personId !== null && talk.interviewer_ids.includes(p.personId)) return true;
  const place = talkPlace(ctx, talk.region_id);
  return place.villageId !== null
    ? isLeaderOf(p, { townshipId: place.townshipId, countyId: place.countyId })
    : canWriteTownship(p, { id: place.townshipId, countyId: place.countyId });
}

/** Talk notes: the interviewer, leaders of that scope and admins (issue 4 §5). */
export const canSeeTalkNote = canWriteTalk;

export interface TalkCheckin {
  sourceId: string;
  principal: Principal;
  subject: string;
  category?: TalkCategory;
  /** 已谈 (default) or back to 待谈. */
  status: '已谈' | '待谈';
  date?: IsoDate;
  signed?: boolean;
  note?: string;
  /** When the sender sent it (the message's create_time); default now. Its day is 今天; it orders check-ins (ordering.ts). */
  sentAt?: number;
}

/** Chooses the talk meant: same subject, the category if given, the sender's own and pending ones first. */
export function pickTalk(ctx: WorkflowContext, p: Principal, subject: string, category?: TalkCategory): TalkWithPeople {
  const want = canonicalName(subject);
  let talks = ctx.repos.talks.all().filter((t) => canonicalName(t.subject) === want);
  if (!talks.length) {
    const r = matchName(subject, ctx.repos.talks.subjects().map((s) => ({ value: s, label: s, names: [s] })));
    const hint = r.kind === 'none' ? suggestionText(r.suggestions) : r.kind === 'found' ? suggestionText([r.value]) : suggestionText(r.options);
    throw new UserError(`谈话计划中没有谈话对象「${subject}」。${hint}谈话计划由换届办导入（谈话表）。`.trim(), 'not_found');
  }
  if (category) {
    talks = talks.filter((t) => t.category === category.name);
    if (!talks.length) throw new UserError(`「${subject}」没有「${category.name}」的谈话安排。`, 'not_found');
  }
  const narrow = (xs: TalkWithPeople[], pred: (t: TalkWithPeople) => boolean) => (xs.filter(pred).length ? xs.filter(pred) : xs);
  talks = narrow(talks, (t) => p.personId !== null && t.interviewer_ids.includes(p.personId));
  talks = narrow(talks, (t) => t.status === '待谈');
  if (talks.length > 1) {
    const opts = talks.map((t) => `${t.category}（${talkPlace(ctx, t.region_id).label}）`).join('、');
    throw new UserError(`「${subject}」有多项谈话安排：${opts}。请写上谈话类别，例如「谈话 ${subject} ${talks[0]!.category.split('·').pop()} 完成」。`);
  }
  return talks[0]!;
}

export function recordTalk(ctx: WorkflowContext, talk: TalkWithPeople, c: TalkCheckin): ChangeResult {
  const replay = replayOf(ctx, c.sourceId);
  if (replay) return replay;
  const sentAt = c.sentAt ?? ctx.clock.now();
  const t = todayIn(ctx.tz, sentAt);
  const future = c.date ? futureDateRefusal(c.date, t) : null;
  if (future) throw new UserError(future);
  const cat = talkCategory(talk.category);
  if (c.signed !== undefined && !cat?.commitment) throw new UserError(`「${talk.category}」不涉及纪律承诺书；承诺书只在选前谈话中登记。`);
  if (c.status === '已谈' && cat?.commitment && c.signed === undefined && talk.commitment_signed === null) {
    throw new UserError(`选前谈话须登记纪律承诺书是否签订，例如「谈话 ${talk.subject} 完成 已签承诺书」或「… 未签承诺书」。`);
  }
  const heldOn = c.status === '已谈' ? (c.date ?? t) : null;
  const signed = c.signed === undefined ? talk.commitment_signed : c.signed ? 1 : 0;
  const note = c.note?.trim() ? c.note.trim().slice(0, 1000) : talk.note;
  if (talk.status === c.status && talk.held_on === heldOn && talk.commitment_signed === signed && talk.note === note) {
    throw new UserError(`与「${talk.subject}」的${talk.category}已是“${c.status}”，无需重复登记。`);
  }
  const refuseIfOutdated = (row: TalkRow | undefined) => {
    if (!row || !isSuperseded(row.as_of, sentAt)) return;
    refuseSuperseded(ctx, {
      sourceId: c.sourceId,
      actor: c.principal.openId,
      kind: 'checkin.talk',
      target: `talk:${talk.id}`,
      sentAt,
      asOf: row.as_of!,
      current: row,
      attempted: { status: c.status, held_on: heldOn, commitment_signed: signed },
      now: `与「${row.subject}」的${row.category}现在是“${row.status}”${row.held_on ? `（${formatDateCn(row.held_on, t)}）` : ''}`,
    });
  };
  refuseIfOutdated(talk);
  const place = talkPlace(ctx, talk.region_id);
  const signedText = cat?.commitment && signed !== null ? `，纪律承诺书${signed ? '已签' : '未签'}` : '';
  const summary =
    c.status === '已谈'
      ? `${place.label}：与「${talk.subject}」的${talk.category}已完成（${formatDateCn(heldOn!, t)}）${signedText}`
      : `${place.label}：与「${talk.subject}」的${talk.category}改回“待谈”`;
  return applyChange(ctx, {
    sourceId: c.sourceId,
    actor: c.principal.openId,
    kind: 'checkin.talk',
    target: `talk:${talk.id}`,
    touches: [{ entity: 'talk', key: { id: talk.id } }],
    mutate: () => {
      refuseIfOutdated(ctx.repos.talks.get(talk.id));
      ctx.repos.talks.record({
        id: talk.id,
        status: c.status,
        held_on: heldOn,
        commitment_signed: signed,
        note,
        updated_by: c.principal.openId,
        updated_at: ctx.clock.now(),
        as_of: sentAt,
      });
    },
    summary,
  });
}

/** Talks per category for a set of regions: planned, held, overdue (digest input). */
export function talkStats(ctx: WorkflowContext, regionIds: ReadonlySet<number> | null): { category: string; total: number; held: number; overdue: number }[] {
  const t = today(ctx);
  const rows = ctx.repos.talks.all().filter((x) => !regionIds || regionIds.has(x.region_id));
  return TALK_CATEGORIES.map((c) => {
    const xs = rows.filter((x) => x.category === c.name);
    return {
      category: c.name,
      total: xs.length,
      held: xs.filter((x) => x.status === '已谈').length,
      overdue: xs.filter((x) => x.status === '待谈' && x.due_date !== null && x.due_date < t).length,
    };
  });
}
