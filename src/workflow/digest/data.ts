import { UserError } from '../../errors.js';
import type { UnansweredRow } from '../../knowledge/question-log.js';
import type { Statement } from '../../store/sql.js';
import type { WorkflowContext } from '../context.js';
import { addDays, daysBetween, todayIn } from '../dates.js';
import type { Principal } from '../permissions.js';
import { slotOn } from '../schedule/daily-slots.js';
import { stagesFor, type StageTemplate } from '../stage-templates.js';
import { complianceOf, getTargets, STRUCTURE_FIELDS, type StructureTargets } from '../structure.js';
import { TALK_CATEGORIES } from '../talks.js';
import type { IsoDate, StageStatus, VillageType } from '../types.js';
import { addWeek, countWeek, emptyWeek, isWeeklyDay, sortWeekly, weeklyRow, weekWindows, type WeekCounters, type WeeklyData, type WeekWindows } from './weekly.js';

/**
 * The leaders' daily digest (日报, issue 5 / SPEC §2.4) as data: every number
 * and named list for a leader's scope on a given day, built from the tables
 * in one pass per county (scoped SQL, no per-village queries). docs/digest.md
 * defines each figure; the card (card.ts), the chart (charts.ts), the Excel
 * report (export.ts) and the CLI preview all read this.
 *
 * "As of day D": a stage counts as done when it is 已完成 with a completion
 * date ≤ D; overdue when its deadline is before D and it is not done by D —
 * so a past day can be previewed from the stored completion dates.
 */

// ─── Types ──────────────────────────────────────────────────────────────────

export interface DigestScope {
  kind: 'all' | 'county' | 'township';
  /** Region id (null for 'all'). */
  id: number | null;
  /** 沁源县 / 沁河镇 / 全部县(市、区). */
  name: string;
  countyId: number | null;
  county: string | null;
}

export interface StageCompletion {
  key: string;
  /** 村委会选举/居委会选举 when both kinds are in scope. */
  name: string;
  order: number;
  /** Villages that have this stage (required stages only). */
  total: number;
  done: number;
  /** Partition of the not-done ones: overdue first, then by reported status. done + overdue + inProgress + blocked + notStarted = total. */
  overdue: number;
  inProgress: number;
  blocked: number;
  notStarted: number;
  /** Not done, deadline within the next `dueSoonDays` days (today included). */
  dueSoon: number;
}

export interface PersonRef {
  name: string;
  openId: string;
  role: string;
}

export interface OverdueStage {
  key: string;
  name: string;
  deadline: IsoDate;
  days: number;
  /** Reported status (未开始 / 进行中 / 受阻). */
  status: StageStatus;
}

export interface OverdueVillage {
  villageId: number;
  village: string;
  township: string;
  townshipId: number;
  /** People assigned to the village: 干部 first, then 工作组 and others. */
  responsible: PersonRef[];
  stages: OverdueStage[];
  maxDays: number;
}

export interface OverduePerson extends PersonRef {
  /** Overdue stages in the villages this person follows. */
  items: number;
  villageCount: number;
  /** The first villages (乡镇+村), at most 10. */
  villages: string[];
}

export interface DueSoonItem {
  kind: 'stage' | 'talk';
  villageId: number | null;
  village: string;
  township: string;
  /** Stage name, or 「类别：对象」 for a talk. */
  what: string;
  deadline: IsoDate;
  /** 0 = due today. */
  daysLeft: number;
  status: string;
  /** Assigned people (stage) or interviewers (talk). */
  responsible: string[];
}

export interface CompletedItem {
  villageId: number;
  village: string;
  township: string;
  stage: string;
  /** Who recorded it (name from the roster, else the open_id). */
  by: string | null;
}

export interface NotReportedVillage {
  villageId: number;
  village: string;
  township: string;
  /** Last recorded activity (ms) before the digest, null when never. */
  lastActivity: number | null;
  lastActivityDate: IsoDate | null;
  /** Open items that make a report expected: overdue + due within the horizon. */
  openItems: number;
  responsible: PersonRef[];
}

export interface NotReportedPerson extends PersonRef {
  villageCount: number;
  /** The first villages (乡镇+村), at most 10. */
  villages: string[];
}

export interface TalkCategoryStats {
  category: string;
  total: number;
  held: number;
  overdue: number;
  /** held / total (0 when none planned). */
  rate: number;
}

export interface OverdueTalk {
  id: number;
  category: string;
  subject: string;
  place: string;
  township: string;
  due: IsoDate;
  days: number;
  interviewers: string[];
}

export interface OpenRisk {
  id: number;
  villageId: number;
  village: string;
  township: string;
  category: string;
  severity: '一般' | '较重' | '严重';
  mustCheck: boolean;
  mustReasons: string | null;
  description: string;
  openedOn: IsoDate;
  ageDays: number;
  followups: number;
  lastFollowupOn: IsoDate | null;
}

export interface RankingRow {
  rank: number;
  id: number;
  name: string;
  /** The county of a township (ranking of townships). */
  parent: string | null;
  villages: number;
  done: number;
  total: number;
  rate: number;
  /** Stages whose deadline has passed (应完成) and how many of them are done (按时完成率 = dueDone / dueTotal). */
  dueTotal: number;
  dueDone: number;
  overdue: number;
  completedYesterday: number;
  /** The leader's own township. */
  own: boolean;
}

export interface StructureTargetStat {
  key: 'oneShoulder' | 'graduates' | 'under35' | 'women' | 'partyRatio' | 'all';
  name: string;
  met: number;
  reported: number;
  /** met / reported (0 when none reported). */
  rate: number;
}

export interface DigestQuestion {
  id: number;
  askedAt: number;
  question: string;
  abstained: boolean;
  downVotes: number;
}

/** Provided by the scheduler (issue 5 part A): reminders that could not be delivered. */
export interface MissedReminder {
  openId: string;
  name: string;
  slot: string;
  items: number;
}

export interface DigestData {
  date: IsoDate;
  /** Monday … Sunday. */
  weekday: string;
  generatedAt: number;
  leader: { openId: string; name: string; role: string | null; isAdmin: boolean };
  scope: DigestScope;
  villages: number;
  townships: number;
  completion: {
    done: number;
    total: number;
    rate: number;
    /** Villages with every required stage done. */
    villagesAllDone: number;
    byStage: StageCompletion[];
  };
  completedYesterday: {
    date: IsoDate;
    /** Stages completed (completion date = the day before). */
    total: number;
    byStage: { name: string; count: number }[];
    items: CompletedItem[];
    talksHeld: number;
  };
  overdue: {
    /** Overdue stage items. */
    total: number;
    villageCount: number;
    personCount: number;
    villages: OverdueVillage[];
    byPerson: OverduePerson[];
  };
  dueSoon: { from: IsoDate; to: IsoDate; total: number; items: DueSoonItem[] };
  notReported: {
    /** No recorded activity in the `days` days before the digest day (nor on the day so far). */
    days: number;
    since: IsoDate;
    horizonDays: number;
    count: number;
    peopleCount: number;
    villages: NotReportedVillage[];
    people: NotReportedPerson[];
  };
  talks: {
    total: number;
    held: number;
    overdue: number;
    byCategory: TalkCategoryStats[];
    overdueList: OverdueTalk[];
  };
  risks: { open: number; mustCheck: number; mustCheckWithoutFollowup: number; items: OpenRisk[] };
  ranking: { level: 'township' | 'county'; within: string; rows: RankingRow[] };
  structure: {
    targets: StructureTargets;
    /** Villages whose 村(居)委会选举 is done. */
    elected: number;
    reported: number;
    byTarget: StructureTargetStat[];
    missingCount: number;
    unmetCount: number;
    /** Elected villages without a structure report (named, with the responsible people). */
    missing: { villageId: number; village: string; township: string; responsible: string[] }[];
    /** Reported villages that miss at least one target. */
    unmet: { villageId: number; village: string; township: string; unmet: string[] }[];
  };
  weekly?: WeeklyData;
  admin?: { unanswered: DigestQuestion[]; missedReminders: MissedReminder[]; unbound?: UnboundPeople };
}

/** Admins: roster people without a Lark account (issue 14), who get no reminders. */
export interface UnboundPeople {
  count: number;
  /** Names, at most the list limit. */
  names: string[];
}

export interface DigestOptions {
  /** Admins: questions of the past day the bot declined or that were voted down (rt.knowledge.unanswered). */
  unanswered?: readonly (UnansweredRow | DigestQuestion)[];
  /** Admins: reminders that could not be delivered. */
  missedReminders?: readonly MissedReminder[];
  /** 未报送 window in days (default 3). */
  notReportedDays?: number;
  /** A village is expected to report when something is overdue or due within this many days (default 7). */
  openHorizonDays?: number;
  /** 即将到期 window (default 3 days, today included). */
  dueSoonDays?: number;
  /** Include the 周调度 comparison (default: when the date is a Monday). */
  weekly?: boolean;
  /** The moment the digest describes (default the clock; capped at the end of `date`). */
  now?: number;
  /** Reuse loaded counties across leaders of one run (the scheduler's daily run, the bench). */
  cache?: DigestCache;
  /** Keep each village's stage rows (the Excel export). */
  detail?: boolean;
  /**
   * Longest named list kept in the data (counts stay exact). Default: no limit,
   * except 1,000 for a province-wide digest (the card shows the first few; 导出 has everything).
   */
  maxListItems?: number;
}

// ─── Scope ──────────────────────────────────────────────────────────────────

/** Leaders with a county or township scope, and admins, get a digest. */
export function canReceiveDigest(p: Principal): boolean {
  return p.isAdmin || (p.role === '领导' && p.scopeId !== null);
}

export const DIGEST_AUDIENCE_MESSAGE = '日报、逾期清单和导出仅供领导（县级或乡镇级）和换届办管理员使用。如需查看自己负责的村，请发送「我的」或「进度」。';

export function digestScope(ctx: WorkflowContext, p: Principal): DigestScope {
  const roster = ctx.repos.roster;
  if ((p.isAdmin || p.role === '领导') && p.scopeId !== null) {
    const r = roster.region(p.scopeId);
    if (r?.kind === 'county') return { kind: 'county', id: r.id, name: r.name, countyId: r.id, county: r.name };
    if (r?.kind === 'township') {
      const c = r.parentId !== null ? roster.region(r.parentId) : undefined;
      return { kind: 'township', id: r.id, name: r.name, countyId: c?.id ?? null, county: c?.name ?? null };
    }
  }
  if (p.isAdmin) return { kind: 'all', id: null, name: '全部县(市、区)', countyId: null, county: null };
  if (p.role === '领导') throw new UserError('您在花名册中没有县或乡镇范围，无法生成日报。请联系换届办在「人员」表中填写县或乡镇。', 'forbidden');
  throw new UserError(DIGEST_AUDIENCE_MESSAGE, 'forbidden');
}

// ─── Loading (one county at a time) ────────────────────────────────────────

/** Stage state codes as of the digest day. */
const TODO = 0;
const ACTIVE = 1;
const BLOCKED = 2;
const DONE = 3;
const STATE = 3;
const OVERDUE = 16;
const DUE_SOON = 32;
const NA = 128;

/** Day numbers of ISO dates, cached (daysBetween without Date objects in the hot loop). */
const dayNums = new Map<string, number>();
function dayNum(d: IsoDate): number {
  let n = dayNums.get(d);
  if (n === undefined) {
    n = daysBetween('2000-01-01', d);
    if (dayNums.size > 20_000) dayNums.clear();
    dayNums.set(d, n);
  }
  return n;
}
const diffDays = (a: IsoDate, b: IsoDate) => dayNum(b) - dayNum(a);

/** Required-stage facts of one village as of the digest day. */
export interface VillageFacts {
  id: number;
  name: string;
  type: VillageType;
  electionDay: string | null;
  townshipId: number;
  township: string;
  countyId: number;
  county: string;
  responsible: PersonRef[];
  /**
   * One cell per required stage key (stageKeyList order) at `offset` in the county's shared array:
   * state TODO/ACTIVE/BLOCKED/DONE, + OVERDUE / DUE_SOON flags; NA = not in this village's template.
   */
  cells: Uint8Array;
  offset: number;
  done: number;
  total: number;
  dueTotal: number;
  dueDone: number;
  overdue: OverdueStage[];
  dueSoon: { key: string; name: string; deadline: IsoDate; daysLeft: number; status: StageStatus }[];
  completedYesterday: { key: string; name: string; by: string | null }[];
  /** Required stages not done with a deadline before D + horizon (or overdue). */
  openItems: number;
  lastActivity: number | null;
  elected: boolean;
  week: WeekCounters;
}

export interface TalkFacts {
  id: number;
  category: string;
  /** Loaded for the talks the digest names (not held, due soon or late) and for the export; '' otherwise. */
  subject: string;
  regionId: number;
  villageId: number | null;
  townshipId: number;
  /** The village name, or the township name for township-level talks. */
  village: string;
  township: string;
  due: IsoDate | null;
  held: boolean;
  heldOn: IsoDate | null;
  updatedAt: number | null;
  commitmentSigned: 0 | 1 | null;
  interviewers: string[];
}

export interface RiskFacts {
  id: number;
  villageId: number;
  village: string;
  township: string;
  townshipId: number;
  category: string;
  severity: '一般' | '较重' | '严重';
  description: string;
  mustCheck: boolean;
  mustReasons: string | null;
  status: '未结' | '已结';
  openedAt: number;
  closedAt: number | null;
  followups: number;
  lastFollowupAt: number | null;
}

export interface StructureFacts {
  villageId: number;
  one_shoulder: 0 | 1 | null;
  graduates: number | null;
  under35: number | null;
  women: number | null;
  party_ratio: number | null;
  updated_at: number;
}

/** Detailed stage rows (export only). */
export interface StageRowFacts {
  key: string;
  status: StageStatus;
  completedOn: IsoDate | null;
  deadline: IsoDate | null;
  updatedBy: string | null;
}

export interface CountyFacts {
  countyId: number;
  county: string;
  townships: { id: number; name: string }[];
  villages: VillageFacts[];
  talks: TalkFacts[];
  risks: RiskFacts[];
  structures: Map<number, StructureFacts>;
  /** Per village, the stage rows as stored (only when loaded with detail). */
  rows?: Map<number, StageRowFacts[]>;
}

interface Params {
  date: IsoDate;
  asOf: number;
  windowStart: number;
  notReportedDays: number;
  horizon: IsoDate;
  horizonDays: number;
  dueSoonTo: IsoDate;
  dueSoonDays: number;
  yesterday: IsoDate;
  week: WeekWindows;
}

/** Keys of the required stages, in template order (村 and 社区 share keys). */
const stageKeyList: { key: string; order: number; names: Record<VillageType, string> }[] = (() => {
  const out = new Map<string, { key: string; order: number; names: Record<VillageType, string> }>();
  for (const type of ['村', '社区'] as const) {
    for (const s of stagesFor(type)) {
      if (s.optional) continue;
      const e = out.get(s.key) ?? { key: s.key, order: s.order, names: { 村: s.name, 社区: s.name } };
      e.names[type] = s.name;
      out.set(s.key, e);
    }
  }
  return [...out.values()].sort((a, b) => a.order - b.order);
})();
const stageIndex = new Map(stageKeyList.map((s, i) => [s.key, i]));

/** Required stages of a type with their index in stageKeyList. */
const requiredOf: Record<VillageType, { stage: StageTemplate; idx: number }[]> = {
  村: stagesFor('村').filter((s) => !s.optional).map((s) => ({ stage: s, idx: stageIndex.get(s.key)! })),
  社区: stagesFor('社区').filter((s) => !s.optional).map((s) => ({ stage: s, idx: stageIndex.get(s.key)! })),
};

/** Stage names when 村 and 社区 are both in scope and the templates name the stage differently. */
const MIXED_NAMES: Record<string, string> = { committee_election: '村(居)委会选举', supervision: '监委会及小组长推选' };

/** The shared empty list (most villages have nothing overdue): replaced by a real array on the first push. */
const NONE: never[] = [];

const ROLE_ORDER: Record<string, number> = { 干部: 0, 工作组: 1, 领导: 2, 管理员: 3 };

/** Reuses loaded counties between digests of the same day (one per county and parameters). */
export class DigestCache {
  private readonly counties = new Map<string, CountyFacts>();
  get(key: string): CountyFacts | undefined {
    return this.counties.get(key);
  }
  set(key: string, f: CountyFacts): void {
    this.counties.set(key, f);
  }
  /** Drops a county once every leader of it has had their digest (keeps memory flat in a province run). */
  drop(countyId: number): void {
    for (const k of [...this.counties.keys()]) if (k.startsWith(`${countyId}|`)) this.counties.delete(k);
  }
  clear(): void {
    this.counties.clear();
  }
  get size(): number {
    return this.counties.size;
  }
}

function params(ctx: WorkflowContext, date: IsoDate, opts: DigestOptions): Params {
  const n = opts.notReportedDays ?? 3;
  const horizonDays = opts.openHorizonDays ?? 7;
  const dueSoonDays = opts.dueSoonDays ?? 3;
  const endOfDay = slotOn(addDays(date, 1), '00:00', ctx.tz).at - 1;
  const now = opts.now ?? ctx.clock.now();
  return {
    date,
    asOf: Math.min(now, endOfDay),
    windowStart: slotOn(addDays(date, -n), '00:00', ctx.tz).at,
    notReportedDays: n,
    horizon: addDays(date, horizonDays),
    horizonDays,
    dueSoonTo: addDays(date, dueSoonDays - 1),
    dueSoonDays,
    yesterday: addDays(date, -1),
    week: weekWindows(date),
  };
}

interface Stmts {
  counties: Statement;
  county: Statement;
  townships: Statement;
  villages: Statement;
  progress: Statement;
  overrides: Statement;
  assignees: Statement;
  talks: Statement;
  risks: Statement;
  structures: Statement;
  names: Statement;
  interviewers: Statement;
  subjects: Statement;
}

const stmtCache = new WeakMap<object, Stmts>();

/** Villages of a county: reached through its townships (index wf_regions_parent). */
// CROSS JOIN fixes the order (townships of the county, then their villages): left to itself the planner
// walks every village of the province through the kind index. `+v.kind` keeps that index out.
const IN_COUNTY = `FROM wf_regions t CROSS JOIN wf_regions v ON v.parent_id = t.id AND +v.kind = 'village' WHERE t.parent_id = ? AND t.kind = 'township'`;

function stmts(ctx: WorkflowContext): Stmts {
  const db = ctx.repos.db;
  let s = stmtCache.get(db);
  if (s) return s;
  s = {
    counties: db.prepare(`SELECT id, name FROM wf_regions WHERE kind = 'county' ORDER BY name`),
    county: db.prepare(`SELECT id, name FROM wf_regions WHERE kind = 'county' AND id = ?`),
    townships: db.prepare(`SELECT id, name FROM wf_regions WHERE kind = 'township' AND parent_id = ? ORDER BY name`),
    villages: db.prepare(`SELECT v.id, v.name, v.village_type AS type, v.election_day AS electionDay, t.id AS townshipId, t.name AS township ${IN_COUNTY} `),
    progress: db.prepare(
      // Codes instead of strings where the values repeat (fewer allocations per row): stage index, status code;
      // who recorded it only where it is shown (completed the day before) or exported.
      `SELECT p.village_id, CASE p.stage_key ${stageKeyList.map((k, i) => `WHEN '${k.key}' THEN ${i}`).join(' ')} ELSE -1 END,
         CASE p.status WHEN '未开始' THEN 0 WHEN '进行中' THEN 1 WHEN '受阻' THEN 2 ELSE 3 END, p.completed_on,
         CASE WHEN @detail = 1 OR p.completed_on = @yesterday THEN p.updated_by END, p.updated_at
       ${IN_COUNTY.replace('WHERE', 'JOIN wf_stage_progress p ON p.village_id = v.id WHERE')}`,
    ),
    overrides: db.prepare(`SELECT o.village_id AS v, o.stage_key AS k, o.deadline AS d ${IN_COUNTY.replace('WHERE', 'JOIN wf_stage_overrides o ON o.village_id = v.id WHERE')}`),
    assignees: db.prepare(
      `SELECT a.village_id AS v, p.name, p.open_id AS openId, p.role ${IN_COUNTY.replace('WHERE', 'JOIN wf_assignments a ON a.village_id = v.id JOIN wf_people p ON p.id = a.person_id WHERE')}`,
    ),
    talks: db.prepare(
      // The category as its index, and its name only when it is not a known one (a CASE has one type in PostgreSQL).
      `SELECT k.id, CASE k.category ${TALK_CATEGORIES.map((c, i) => `WHEN '${c.name}' THEN ${i}`).join(' ')} ELSE -1 END,
         CASE WHEN k.category NOT IN (${TALK_CATEGORIES.map((c) => `'${c.name}'`).join(', ')}) THEN k.category END,
         CASE WHEN @detail = 1 THEN k.subject END, k.region_id, k.due_date, k.status = '已谈', k.held_on, k.updated_at, k.commitment_signed
       FROM wf_talks k
       WHERE k.region_id IN (SELECT id FROM wf_regions WHERE parent_id = ? AND kind = 'township'
                             UNION ALL SELECT v.id ${IN_COUNTY})
`,
    ),
    risks: db.prepare(
      `SELECT r.id, r.village_id AS villageId, r.category, r.severity, r.description, r.must_check AS mustCheck, r.must_reasons AS mustReasons,
         r.status, r.opened_at AS openedAt, r.closed_at AS closedAt,
         (SELECT COUNT(*) FROM wf_risk_followups f WHERE f.risk_id = r.id) AS followups,
         (SELECT MAX(at) FROM wf_risk_followups f WHERE f.risk_id = r.id) AS lastFollowupAt
       ${IN_COUNTY.replace('WHERE', 'JOIN wf_risks r ON r.village_id = v.id WHERE')}`,
    ),
    structures: db.prepare(
      `SELECT s.village_id AS villageId, s.one_shoulder, s.graduates, s.under35, s.women, s.party_ratio, s.updated_at ${IN_COUNTY.replace('WHERE', 'JOIN wf_structures s ON s.village_id = v.id WHERE')}`,
    ),
    names: db.prepare(`SELECT open_id AS openId, name FROM wf_people WHERE open_id IN (SELECT value FROM json_each(?))`),
    // CAST: PostgreSQL's json_each gives text (SQLite's keeps the integer); the same lookup in both.
    subjects: db.prepare(`SELECT k.id, k.subject FROM json_each(?) j CROSS JOIN wf_talks k ON k.id = CAST(j.value AS BIGINT)`),
    interviewers: db.prepare(
      `SELECT i.talk_id AS t, p.name FROM json_each(?) j CROSS JOIN wf_talk_interviewers i ON i.talk_id = CAST(j.value AS BIGINT) JOIN wf_people p ON p.id = i.person_id ORDER BY i.talk_id, p.name`,
    ),
  };
  stmtCache.set(db, s);
  return s;
}

/** Deadlines per election day, computed once per distinct day (倒排工期: election day + offset). */
function deadlinesFor(cache: Map<string, IsoDate[]>, electionDay: string, type: VillageType): IsoDate[] {
  const k = `${type}|${electionDay}`;
  let d = cache.get(k);
  if (!d) {
    d = requiredOf[type].map(({ stage }) => addDays(electionDay, stage.offsetDays));
    cache.set(k, d);
  }
  return d;
}

/** A stage row as read (raw mode, codes): village, stage index, status code, completed_on, updated_by (when selected), updated_at. */
type ProgressRaw = [v: number, k: number, s: 0 | 1 | 2 | 3, c: string | null, b: string | null, a: number];
const STATUS_NAMES: readonly StageStatus[] = ['未开始', '进行中', '受阻', '已完成'];

/** Loads one county and computes every village's facts as of the digest day. */
export function loadCounty(ctx: WorkflowContext, countyId: number, date: IsoDate, opts: DigestOptions = {}): CountyFacts {
  const p = params(ctx, date, opts);
  const key = `${countyId}|${date}|${p.asOf}|${p.notReportedDays}|${p.horizonDays}|${p.dueSoonDays}|${opts.detail ? 1 : 0}`;
  const cached = opts.cache?.get(key);
  if (cached) return cached;
  const s = stmts(ctx);
  const county = s.county.get(countyId) as { id: number; name: string } | undefined;
  if (!county) throw new UserError(`找不到县(市、区) ${countyId}。`, 'not_found');
  const townships = s.townships.all(countyId) as { id: number; name: string }[];

  const overrides = new Map<number, Map<string, string>>();
  for (const r of s.overrides.all(countyId) as { v: number; k: string; d: string }[]) {
    let m = overrides.get(r.v);
    if (!m) overrides.set(r.v, (m = new Map()));
    m.set(r.k, r.d);
  }
  const responsible = new Map<number, PersonRef[]>();
  for (const [v, name, openId, role] of s.assignees.raw(true).all(countyId) as [number, string, string, string][]) {
    const l = responsible.get(v);
    const person = { name, openId, role };
    if (l) l.push(person);
    else responsible.set(v, [person]);
  }
  for (const l of responsible.values()) if (l.length > 1) l.sort((a, b) => (ROLE_ORDER[a.role] ?? 9) - (ROLE_ORDER[b.role] ?? 9) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const structures = new Map<number, StructureFacts>();
  for (const r of s.structures.all(countyId) as StructureFacts[]) structures.set(r.villageId, r);

  const deadlineCache = new Map<string, IsoDate[]>();
  const rowsOut = opts.detail ? new Map<number, StageRowFacts[]>() : undefined;
  const villages: VillageFacts[] = [];
  const nStages = stageKeyList.length;
  const rawVillages = s.villages.all(countyId) as { id: number; name: string; type: VillageType; electionDay: string | null; townshipId: number; township: string }[];
  const cells = new Uint8Array(rawVillages.length * nStages).fill(NA);
  // Stage rows streamed into flat arrays (cell = village index × stages + stage index): no row outlives the scan.
  const nCells = rawVillages.length * nStages;
  const pStatus = new Uint8Array(nCells).fill(255);
  const pDone: (string | null)[] = new Array<string | null>(nCells).fill(null);
  const pBy: (string | null)[] = new Array<string | null>(nCells).fill(null);
  const pLast = new Float64Array(rawVillages.length).fill(-1);
  const indexOf = new Map(rawVillages.map((v, i) => [v.id, i]));
  for (const r of s.progress.raw(true).iterate(countyId, { detail: opts.detail ? 1 : 0, yesterday: p.yesterday }) as IterableIterator<ProgressRaw>) {
    const vi = indexOf.get(r[0])!;
    if (r[1] >= 0) {
      const c = vi * nStages + r[1];
      pStatus[c] = r[2];
      pDone[c] = r[3];
      pBy[c] = r[4];
    }
    // Every recorded row is activity, optional stages (另行选举) included.
    if (r[5] <= p.asOf && r[5] > pLast[vi]!) pLast[vi] = r[5];
  }
  let offset = -nStages;
  for (const v of rawVillages) {
    const req = requiredOf[v.type];
    const ovr = overrides.get(v.id);
    const tpl = v.electionDay ? deadlinesFor(deadlineCache, v.electionDay, v.type) : null;
    offset += nStages;
    const f: VillageFacts = {
      id: v.id,
      name: v.name,
      type: v.type,
      electionDay: v.electionDay,
      townshipId: v.townshipId,
      township: v.township,
      countyId: county.id,
      county: county.name,
      responsible: responsible.get(v.id) ?? [],
      cells,
      offset,
      done: 0,
      total: req.length,
      dueTotal: 0,
      dueDone: 0,
      overdue: NONE,
      dueSoon: NONE,
      completedYesterday: NONE,
      openItems: 0,
      lastActivity: null,
      elected: false,
      week: emptyWeek(),
    };
    const lastRow = pLast[offset / nStages]!;
    let last: number | null = lastRow >= 0 ? lastRow : null;
    const detail: StageRowFacts[] | undefined = rowsOut ? [] : undefined;
    for (let j = 0; j < req.length; j++) {
      const { stage, idx } = req[j]!;
      const c = offset + idx;
      const code = pStatus[c]!; // 255 = no row (未开始)
      const deadline = ovr?.get(stage.key) ?? (tpl ? tpl[j]! : null);
      const doneOn = code === 3 ? (pDone[c] ?? '0000-00-00') : null;
      const done = doneOn !== null && doneOn <= p.date;
      if (detail) detail.push({ key: stage.key, status: STATUS_NAMES[code === 255 ? 0 : code]!, completedOn: pDone[c] ?? null, deadline, updatedBy: pBy[c] ?? null });
      countWeek(f.week, p.week, doneOn, deadline);
      if (deadline !== null && deadline < p.date) {
        f.dueTotal++;
        if (done) f.dueDone++;
      }
      if (done) {
        cells[offset + idx] = DONE;
        f.done++;
        if (doneOn === p.yesterday) (f.completedYesterday === NONE ? (f.completedYesterday = []) : f.completedYesterday).push({ key: stage.key, name: stage.name, by: pBy[c] ?? null });
        if (stage.key === 'committee_election') f.elected = true;
        continue;
      }
      // No row = 未开始; 已完成 only after the digest day = still in progress on that day.
      const status: StageStatus = code === 255 ? '未开始' : code === 3 ? '进行中' : STATUS_NAMES[code]!;
      cells[offset + idx] = status === '受阻' ? BLOCKED : status === '进行中' ? ACTIVE : TODO;
      if (deadline === null) continue;
      if (deadline < p.date) {
        cells[offset + idx]! |= OVERDUE;
        (f.overdue === NONE ? (f.overdue = []) : f.overdue).push({ key: stage.key, name: stage.name, deadline, days: diffDays(deadline, p.date), status });
      } else if (deadline <= p.dueSoonTo) {
        cells[offset + idx]! |= DUE_SOON;
        (f.dueSoon === NONE ? (f.dueSoon = []) : f.dueSoon).push({ key: stage.key, name: stage.name, deadline, daysLeft: diffDays(p.date, deadline), status });
      }
      if (deadline <= p.horizon) f.openItems++;
    }
    const st = structures.get(v.id);
    if (st && st.updated_at <= p.asOf && (last === null || st.updated_at > last)) last = st.updated_at;
    f.lastActivity = last;
    if (detail) rowsOut!.set(v.id, detail);
    villages.push(f);
  }

  // Talks: villages of the county and its townships (五必谈·乡镇党委书记).
  const byId = new Map(villages.map((v) => [v.id, v]));
  const townshipName = new Map(townships.map((t) => [t.id, t.name]));
  const talks: TalkFacts[] = [];
  type TalkRaw = [id: number, category: number, other: string | null, subject: string | null, regionId: number, due: string | null, held: 0 | 1, heldOn: string | null, updatedAt: number | null, signed: 0 | 1 | null];
  for (const [id, cat, other, subject, regionId, due, isHeld, heldOnRaw, updatedAt, signed] of s.talks.raw(true).all(countyId, countyId, { detail: opts.detail ? 1 : 0 }) as TalkRaw[]) {
    const v = byId.get(regionId);
    const heldOn = isHeld ? (heldOnRaw ?? (updatedAt !== null ? todayIn(ctx.tz, updatedAt) : null)) : null;
    const held = heldOn !== null && heldOn <= p.date;
    if (v && updatedAt !== null && updatedAt <= p.asOf && (v.lastActivity === null || updatedAt > v.lastActivity)) v.lastActivity = updatedAt;
    if (v && !held && due !== null && due <= p.horizon) v.openItems++;
    talks.push({
      id,
      category: other ?? TALK_CATEGORIES[cat]!.name,
      subject: subject ?? '',
      regionId,
      villageId: v ? v.id : null,
      townshipId: v ? v.townshipId : regionId,
      village: v ? v.name : (townshipName.get(regionId) ?? String(regionId)),
      township: v ? v.township : (townshipName.get(regionId) ?? ''),
      due,
      held,
      heldOn,
      updatedAt,
      commitmentSigned: signed,
      interviewers: NONE,
    });
  }
  // Interviewers' names: every talk for the export, else only the talks the digest names (not held, due soon or late).
  const named = opts.detail ? talks : talks.filter((t) => !t.held && t.due !== null && t.due <= p.dueSoonTo);
  if (named.length) {
    const byTalk = new Map(named.map((t) => [t.id, t]));
    const ids = JSON.stringify(named.map((t) => t.id));
    if (!opts.detail) for (const r of s.subjects.all(ids) as { id: number; subject: string }[]) byTalk.get(r.id)!.subject = r.subject;
    for (const r of s.interviewers.all(ids) as { t: number; name: string }[]) {
      const t = byTalk.get(r.t);
      if (t) (t.interviewers === NONE ? (t.interviewers = []) : t.interviewers).push(r.name);
    }
  }

  const risks: RiskFacts[] = [];
  for (const r of s.risks.all(countyId) as (Omit<RiskFacts, 'village' | 'township' | 'townshipId' | 'mustCheck'> & { mustCheck: number })[]) {
    const v = byId.get(r.villageId)!;
    for (const at of [r.openedAt, r.lastFollowupAt, r.closedAt]) {
      if (at !== null && at <= p.asOf && (v.lastActivity === null || at > v.lastActivity)) v.lastActivity = at;
    }
    risks.push({ ...r, mustCheck: r.mustCheck === 1, village: v.name, township: v.township, townshipId: v.townshipId });
  }

  const facts: CountyFacts = { countyId: county.id, county: county.name, townships, villages, talks, risks, structures, rows: rowsOut };
  opts.cache?.set(key, facts);
  return facts;
}

/** The counties a scope needs: its own county, or all of them. */
export function countiesOf(ctx: WorkflowContext, scope: DigestScope): { id: number; name: string }[] {
  if (scope.kind === 'all') return stmts(ctx).counties.all() as { id: number; name: string }[];
  if (scope.countyId === null) return [];
  return [{ id: scope.countyId, name: scope.county ?? '' }];
}

/** The facts of a scope: villages, talks, risks and structures of the leader's county or township. */
export interface ScopeFacts {
  scope: DigestScope;
  counties: CountyFacts[];
  villages: VillageFacts[];
  talks: TalkFacts[];
  risks: RiskFacts[];
  structures: Map<number, StructureFacts>;
}

export function scopeFacts(ctx: WorkflowContext, scope: DigestScope, date: IsoDate, opts: DigestOptions = {}): ScopeFacts {
  const counties = countiesOf(ctx, scope).map((c) => loadCounty(ctx, c.id, date, opts));
  const inScope = scope.kind === 'township' ? (townshipId: number) => townshipId === scope.id : () => true;
  const villages: VillageFacts[] = [];
  const talks: TalkFacts[] = [];
  const risks: RiskFacts[] = [];
  const structures = new Map<number, StructureFacts>();
  for (const c of counties) {
    for (const v of c.villages) if (inScope(v.townshipId)) villages.push(v);
    for (const t of c.talks) if (inScope(t.townshipId)) talks.push(t);
    for (const r of c.risks) if (inScope(r.townshipId)) risks.push(r);
    for (const [id, st] of c.structures) structures.set(id, st);
  }
  return { scope, counties, villages, talks, risks, structures };
}


// ─── Building the digest ────────────────────────────────────────────────────

const WEEKDAYS = ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'];
const SEVERITY_RANK: Record<string, number> = { 严重: 0, 较重: 1, 一般: 2 };
const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function weekdayOf(date: IsoDate): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return WEEKDAYS[new Date(Date.UTC(y, m - 1, d)).getUTCDay()]!;
}

/**
 * The digest of one leader (or admin) for one day. Refuses (UserError) a
 * principal who is neither. Pure over the tables: it reads, never writes.
 * Works a county at a time (see DigestBuilder), so a province-wide digest
 * never holds more than one county's facts.
 */
export function buildDigest(ctx: WorkflowContext, leader: Principal, date: IsoDate, opts: DigestOptions = {}): DigestData {
  if (!canReceiveDigest(leader)) throw new UserError(DIGEST_AUDIENCE_MESSAGE, 'forbidden');
  // One moment for the whole digest (and the cache key of the counties it loads).
  opts = { ...opts, now: opts.now ?? ctx.clock.now() };
  const b = new DigestBuilder(ctx, digestScope(ctx, leader), date, opts);
  for (const c of countiesOf(ctx, b.scope)) b.add(loadCounty(ctx, c.id, date, opts));
  return b.finish(leader, opts);
}

/** Cuts a sorted candidate list back to `max` once it has grown past twice that (amortised top-k). */
function prune<T>(xs: T[], max: number, order: (a: T, b: T) => number): void {
  if (xs.length <= 2 * max) return;
  xs.sort(order);
  xs.length = max;
}

const overdueVillageOrder = (a: OverdueVillage, b: OverdueVillage) =>
  b.maxDays - a.maxDays || b.stages.length - a.stages.length || cmpStr(a.township, b.township) || cmpStr(a.village, b.village);
const dueSoonOrder = (a: DueSoonItem, b: DueSoonItem) => cmpStr(a.deadline, b.deadline) || cmpStr(a.township, b.township) || cmpStr(a.village, b.village) || cmpStr(a.what, b.what);
const overdueTalkOrder = (a: OverdueTalk, b: OverdueTalk) => b.days - a.days || a.id - b.id;
const notReportedOrder = (a: NotReportedVillage, b: NotReportedVillage) =>
  (a.lastActivity ?? 0) - (b.lastActivity ?? 0) || b.openItems - a.openItems || cmpStr(a.township, b.township) || cmpStr(a.village, b.village);
const riskOrder = (a: OpenRisk, b: OpenRisk) =>
  Number(b.mustCheck) - Number(a.mustCheck) || (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) || b.ageDays - a.ageDays || a.id - b.id;

const STAT_KEYS = ['oneShoulder', 'graduates', 'under35', 'women', 'partyRatio', 'all'] as const;
const STAT_NAMES: Record<(typeof STAT_KEYS)[number], string> = { oneShoulder: '一肩挑', graduates: '大学生', under35: '35岁以下', women: '女性', partyRatio: '党员比例', all: '全部达标' };

/**
 * Builds one digest from county facts fed one county at a time: counts are
 * summed as they come; named lists that the digest cuts to `maxListItems`
 * keep only their best candidates between counties (exact: each list has a
 * total order); the lists that feed per-person figures (overdue and
 * not-reported villages) are kept whole, as they were before the cut.
 */
export class DigestBuilder {
  private readonly p: Params;
  private readonly max: number;
  private readonly inScope: (townshipId: number) => boolean;
  private villages = 0;
  private readonly townshipIds = new Set<number>();
  private readonly byStage: StageCompletion[] = stageKeyList.map((s) => ({ key: s.key, name: s.names.村, order: s.order, total: 0, done: 0, overdue: 0, inProgress: 0, blocked: 0, notStarted: 0, dueSoon: 0 }));
  private readonly typesSeen = new Set<VillageType>();
  private done = 0;
  private total = 0;
  private allDone = 0;
  private completedTotal = 0;
  private readonly completed: CompletedItem[] = [];
  private readonly completedByStage = new Map<string, number>();
  private readonly overdueVillages: OverdueVillage[] = [];
  private overdueTotal = 0;
  private readonly dueSoon: DueSoonItem[] = [];
  private dueSoonTotal = 0;
  private readonly cats = new Map<string, TalkCategoryStats>(TALK_CATEGORIES.map((c) => [c.name, { category: c.name, total: 0, held: 0, overdue: 0, rate: 0 }]));
  private readonly overdueTalks: OverdueTalk[] = [];
  private talksHeldYesterday = 0;
  private readonly notReported: NotReportedVillage[] = [];
  private readonly risks: OpenRisk[] = [];
  private risksOpen = 0;
  private risksMustCheck = 0;
  private risksMustCheckBare = 0;
  private readonly targets: StructureTargets;
  private readonly stat = new Map(STAT_KEYS.map((k) => [k, { met: 0, reported: 0 }]));
  private readonly missing: { villageId: number; village: string; township: string; responsible: PersonRef[] }[] = [];
  private missingCount = 0;
  private readonly unmet: DigestData['structure']['unmet'] = [];
  private unmetCount = 0;
  private elected = 0;
  private reported = 0;
  /** 晾晒 units: the counties (province-wide) or the townships of the one county. */
  private readonly units: Unit[] = [];
  private unitWithin = '';
  private readonly weekTotal = emptyWeek();
  private weekTotalStages = 0;
  private readonly week = { talksHeldThis: 0, talksHeldPrev: 0, risksOpenedThis: 0, risksOpenedPrev: 0, risksClosedThis: 0, risksClosedPrev: 0 };

  constructor(
    private readonly ctx: WorkflowContext,
    readonly scope: DigestScope,
    private readonly date: IsoDate,
    opts: DigestOptions,
  ) {
    this.p = params(ctx, date, opts);
    this.max = opts.maxListItems ?? (scope.kind === 'all' ? 1000 : Infinity);
    this.inScope = scope.kind === 'township' ? (townshipId: number) => townshipId === scope.id : () => true;
    this.targets = getTargets(ctx);
    if (scope.kind !== 'all') this.unitWithin = scope.county ?? '';
  }

  add(c: CountyFacts): void {
    const { p, date, max } = this;
    this.addUnits(c);
    for (const v of c.villages) {
      if (!this.inScope(v.townshipId)) continue;
      this.villages++;
      this.townshipIds.add(v.townshipId);
      this.typesSeen.add(v.type);
      this.done += v.done;
      this.total += v.total;
      if (v.done === v.total) this.allDone++;
      const { cells, offset } = v;
      for (let i = 0; i < this.byStage.length; i++) {
        const cell = cells[offset + i]!;
        if (cell === NA) continue;
        const b = this.byStage[i]!;
        const st = cell & STATE;
        b.total++;
        if (st === DONE) b.done++;
        else if (cell & OVERDUE) b.overdue++;
        else if (st === ACTIVE) b.inProgress++;
        else if (st === BLOCKED) b.blocked++;
        else b.notStarted++;
        if (cell & DUE_SOON) b.dueSoon++;
      }
      // Completed yesterday, with who recorded it (names filled in for what is kept).
      for (const x of v.completedYesterday) {
        this.completedTotal++;
        this.completedByStage.set(x.name, (this.completedByStage.get(x.name) ?? 0) + 1);
        if (this.completed.length < max) this.completed.push({ villageId: v.id, village: v.name, township: v.township, stage: x.name, by: x.by });
      }
      // Overdue.
      if (v.overdue.length) {
        this.overdueTotal += v.overdue.length;
        const stages = v.overdue.sort((a, b) => b.days - a.days); // in place: the order is the same for every reader
        this.overdueVillages.push({ villageId: v.id, village: v.name, township: v.township, townshipId: v.townshipId, responsible: v.responsible, stages, maxDays: stages[0]!.days });
      }
      // Due soon (stages; talks below). Responsible people as refs until the names are kept.
      for (const d of v.dueSoon) {
        this.dueSoonTotal++;
        this.dueSoon.push({ kind: 'stage', villageId: v.id, village: v.name, township: v.township, what: d.name, deadline: d.deadline, daysLeft: d.daysLeft, status: d.status, responsible: v.responsible as unknown as string[] });
      }
      // Not reported: open items expected to move, but nothing recorded in the window.
      if (v.openItems > 0 && !(v.lastActivity !== null && v.lastActivity >= p.windowStart)) {
        this.notReported.push({
          villageId: v.id,
          village: v.name,
          township: v.township,
          lastActivity: v.lastActivity,
          lastActivityDate: v.lastActivity !== null ? todayIn(this.ctx.tz, v.lastActivity) : null,
          openItems: v.openItems,
          responsible: v.responsible,
        });
      }
      // Structure of the new committees.
      if (v.elected) this.elected++;
      const row = c.structures.get(v.id);
      if (!row) {
        if (v.elected) {
          this.missingCount++;
          if (this.missing.length < max) this.missing.push({ villageId: v.id, village: v.name, township: v.township, responsible: v.responsible });
        }
      } else {
        this.reported++;
        const comp = complianceOf({ ...row, village_id: row.villageId, updated_by: '' }, this.targets);
        for (const k of STAT_KEYS) {
          if (comp[k] === null) continue;
          const e = this.stat.get(k)!;
          e.reported++;
          if (comp[k]) e.met++;
        }
        const miss = STRUCTURE_FIELDS.filter((x) => comp[x.key] === false).map((x) => x.name);
        if (miss.length) {
          this.unmetCount++;
          if (this.unmet.length < max) this.unmet.push({ villageId: v.id, village: v.name, township: v.township, unmet: miss });
        }
      }
      addWeek(this.weekTotal, v.week);
      this.weekTotalStages += v.total;
    }

    const w = p.week;
    for (const t of c.talks) {
      if (!this.inScope(t.townshipId)) continue;
      let cat = this.cats.get(t.category);
      if (!cat) this.cats.set(t.category, (cat = { category: t.category, total: 0, held: 0, overdue: 0, rate: 0 }));
      cat.total++;
      if (t.heldOn) {
        if (t.heldOn >= w.thisWeek.from && t.heldOn <= w.thisWeek.to) this.week.talksHeldThis++;
        else if (t.heldOn >= w.prevWeek.from && t.heldOn <= w.prevWeek.to) this.week.talksHeldPrev++;
      }
      if (t.held) {
        cat.held++;
        if (t.heldOn === p.yesterday) this.talksHeldYesterday++;
        continue;
      }
      if (t.due === null) continue;
      if (t.due < date) {
        cat.overdue++;
        this.overdueTalks.push({ id: t.id, category: t.category, subject: t.subject, place: t.villageId !== null ? `${t.township}${t.village}` : t.village, township: t.township, due: t.due, days: diffDays(t.due, date), interviewers: t.interviewers });
      } else if (t.due <= p.dueSoonTo) {
        this.dueSoonTotal++;
        this.dueSoon.push({
          kind: 'talk',
          villageId: t.villageId,
          village: t.village,
          township: t.township,
          what: `${t.category}：${t.subject}`,
          deadline: t.due,
          daysLeft: diffDays(date, t.due),
          status: '待谈',
          responsible: t.interviewers,
        });
      }
    }

    // Open risks as of the day: 必查 first, then severity, then the oldest.
    const start = (d: IsoDate) => slotOn(d, '00:00', this.ctx.tz).at;
    const thisFrom = start(w.thisWeek.from);
    const prevFrom = start(w.prevWeek.from);
    const thisTo = start(date);
    const inWeek = (at: number | null, from: number, to: number) => at !== null && at >= from && at < to;
    for (const r of c.risks) {
      if (!this.inScope(r.townshipId)) continue;
      if (inWeek(r.openedAt, thisFrom, thisTo)) this.week.risksOpenedThis++;
      else if (inWeek(r.openedAt, prevFrom, thisFrom)) this.week.risksOpenedPrev++;
      if (r.status === '已结') {
        if (inWeek(r.closedAt, thisFrom, thisTo)) this.week.risksClosedThis++;
        else if (inWeek(r.closedAt, prevFrom, thisFrom)) this.week.risksClosedPrev++;
      }
      if (r.openedAt > p.asOf) continue;
      if (r.status === '已结' && r.closedAt !== null && r.closedAt <= p.asOf) continue;
      const openedOn = todayIn(this.ctx.tz, r.openedAt);
      this.risksOpen++;
      if (r.mustCheck) this.risksMustCheck++;
      if (r.mustCheck && r.followups === 0) this.risksMustCheckBare++;
      this.risks.push({
        id: r.id,
        villageId: r.villageId,
        village: r.village,
        township: r.township,
        category: r.category,
        severity: r.severity,
        mustCheck: r.mustCheck,
        mustReasons: r.mustReasons,
        description: r.description,
        openedOn,
        ageDays: Math.max(0, diffDays(openedOn, date)),
        followups: r.followups,
        lastFollowupOn: r.lastFollowupAt !== null ? todayIn(this.ctx.tz, r.lastFollowupAt) : null,
      });
    }

    // Between counties, only the best candidates of each cut list are kept.
    prune(this.dueSoon, max, dueSoonOrder);
    prune(this.overdueTalks, max, overdueTalkOrder);
    prune(this.risks, max, riskOrder);
  }

  /**
   * The units compared (晾晒): the townships of the leader's county (a township
   * leader sees their place among the county's townships — aggregate figures
   * only, no village or person of another township), or the counties for a
   * province-wide digest.
   */
  private addUnits(c: CountyFacts): void {
    const newUnit = (id: number, name: string, parent: string | null): Unit => ({ id, name, parent, villages: 0, done: 0, total: 0, dueTotal: 0, dueDone: 0, overdue: 0, completedYesterday: 0, week: emptyWeek() });
    const add = (u: Unit, v: VillageFacts) => {
      u.villages++;
      u.done += v.done;
      u.total += v.total;
      u.dueTotal += v.dueTotal;
      u.dueDone += v.dueDone;
      u.overdue += v.overdue.length;
      u.completedYesterday += v.completedYesterday.length;
      addWeek(u.week, v.week);
    };
    if (this.scope.kind === 'all') {
      const u = newUnit(c.countyId, c.county, null);
      for (const v of c.villages) add(u, v);
      this.units.push(u);
      return;
    }
    this.unitWithin = c.county;
    const byId = new Map(c.townships.map((t) => [t.id, newUnit(t.id, t.name, c.county)]));
    for (const v of c.villages) add(byId.get(v.townshipId)!, v);
    this.units.push(...byId.values());
  }

  private ranking(): DigestData['ranking'] {
    const { scope } = this;
    const rows = this.units
      .filter((u) => u.villages > 0)
      .map((u) => ({
        rank: 0,
        id: u.id,
        name: u.name,
        parent: u.parent,
        villages: u.villages,
        done: u.done,
        total: u.total,
        rate: u.total ? u.done / u.total : 0,
        dueTotal: u.dueTotal,
        dueDone: u.dueDone,
        overdue: u.overdue,
        completedYesterday: u.completedYesterday,
        own: scope.kind === 'township' && u.id === scope.id,
      }))
      .sort((a, b) => b.rate - a.rate || a.overdue - b.overdue || cmpStr(a.name, b.name));
    rows.forEach((r, i) => (r.rank = i + 1));
    return scope.kind === 'all' ? { level: 'county', within: '全部县(市、区)', rows } : { level: 'township', within: this.unitWithin, rows };
  }

  private weekly(): WeeklyData {
    return {
      windows: this.p.week,
      total: weeklyRow(this.scope.id, this.scope.name, this.weekTotalStages, this.weekTotal),
      rows: sortWeekly(this.units.filter((u) => u.villages > 0).map((u) => weeklyRow(u.id, u.name, u.total, u.week))),
      ...this.week,
    };
  }

  finish(leader: Principal, opts: DigestOptions): DigestData {
    const { ctx, scope, date, p, max } = this;
    const cut = <T>(xs: T[]): T[] => (xs.length > max ? xs.slice(0, max) : xs);

    for (let i = 0; i < this.byStage.length; i++) {
      const names = stageKeyList[i]!.names;
      const shown = [...this.typesSeen].map((t) => names[t]);
      const distinct = [...new Set(shown.length ? shown : [names.村])];
      this.byStage[i]!.name = distinct.length > 1 ? (MIXED_NAMES[this.byStage[i]!.key] ?? distinct.join('/')) : distinct[0]!;
    }
    const completed = this.completed;
    const names = peopleNames(ctx, completed.map((c) => c.by).filter((x): x is string => !!x));
    for (const c of completed) if (c.by) c.by = names.get(c.by) ?? c.by;

    const overdueVillages = this.overdueVillages.sort(overdueVillageOrder);
    const dueSoon = this.dueSoon.sort(dueSoonOrder);
    const overdueTalks = this.overdueTalks.sort(overdueTalkOrder);
    const notReported = this.notReported.sort(notReportedOrder);
    const risks = this.risks.sort(riskOrder);
    for (const c of this.cats.values()) c.rate = c.total ? c.held / c.total : 0;
    const byCategory = [...this.cats.values()];

    // Named lists: cut to the limit (after sorting), names of people filled in only for what is kept.
    const byPerson = overdueByPerson(overdueVillages);
    const nrPeople = notReportedPeople(notReported);
    const dueKept = cut(dueSoon).map((i) => (i.kind === 'stage' ? { ...i, responsible: (i.responsible as unknown as PersonRef[]).map((r) => r.name) } : i));
    const missingKept = this.missing.map((m) => ({ ...m, responsible: m.responsible.map((r) => r.name) }));

    const data: DigestData = {
      date,
      weekday: weekdayOf(date),
      generatedAt: opts.now ?? ctx.clock.now(),
      leader: { openId: leader.openId, name: leader.name, role: leader.role, isAdmin: leader.isAdmin },
      scope,
      villages: this.villages,
      townships: this.townshipIds.size,
      completion: { done: this.done, total: this.total, rate: this.total ? this.done / this.total : 0, villagesAllDone: this.allDone, byStage: this.byStage },
      completedYesterday: {
        date: p.yesterday,
        total: this.completedTotal,
        byStage: [...this.completedByStage].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count),
        items: completed,
        talksHeld: this.talksHeldYesterday,
      },
      overdue: { total: this.overdueTotal, villageCount: overdueVillages.length, personCount: byPerson.length, villages: cut(overdueVillages), byPerson: cut(byPerson) },
      dueSoon: { from: date, to: p.dueSoonTo, total: this.dueSoonTotal, items: dueKept },
      notReported: {
        days: p.notReportedDays,
        since: addDays(date, -p.notReportedDays),
        horizonDays: p.horizonDays,
        count: notReported.length,
        peopleCount: nrPeople.length,
        villages: cut(notReported),
        people: cut(nrPeople),
      },
      talks: {
        total: byCategory.reduce((n, c) => n + c.total, 0),
        held: byCategory.reduce((n, c) => n + c.held, 0),
        overdue: byCategory.reduce((n, c) => n + c.overdue, 0),
        byCategory,
        overdueList: cut(overdueTalks),
      },
      risks: { open: this.risksOpen, mustCheck: this.risksMustCheck, mustCheckWithoutFollowup: this.risksMustCheckBare, items: cut(risks) },
      ranking: this.ranking(),
      structure: {
        targets: this.targets,
        elected: this.elected,
        reported: this.reported,
        byTarget: STAT_KEYS.map((k) => {
          const e = this.stat.get(k)!;
          return { key: k, name: STAT_NAMES[k], met: e.met, reported: e.reported, rate: e.reported ? e.met / e.reported : 0 };
        }),
        missingCount: this.missingCount,
        unmetCount: this.unmetCount,
        missing: missingKept,
        unmet: this.unmet,
      },
      ...((opts.weekly ?? isWeeklyDay(date)) ? { weekly: this.weekly() } : {}),
    };
    if (leader.isAdmin) {
      data.admin = {
        unanswered: (opts.unanswered ?? []).map(toQuestion),
        missedReminders: [...(opts.missedReminders ?? [])],
        unbound: unboundIn(ctx, scope, max),
      };
    }
    return data;
  }
}

/** The unbound people of the admin's scope (a county admin: those acting for the county or one of its townships). */
function unboundIn(ctx: WorkflowContext, scope: DigestScope, max: number): UnboundPeople {
  const roster = ctx.repos.roster;
  let people = roster.unbound();
  if (scope.kind !== 'all' && scope.countyId !== null) {
    const countyOfTownship = new Map(roster.townships().map((t) => [t.id, t.parentId]));
    const county = (scopeId: number | null) => (scopeId === null ? null : scopeId === scope.countyId ? scopeId : (countyOfTownship.get(scopeId) ?? null));
    people = people.filter((u) => county(u.scopeId) === scope.countyId);
  }
  return { count: people.length, names: people.slice(0, max).map((u) => u.name) };
}

function toQuestion(q: UnansweredRow | DigestQuestion): DigestQuestion {
  if ('askedAt' in q) return q;
  return { id: q.id, askedAt: q.asked_at, question: q.question, abstained: q.abstained === 1, downVotes: q.down_votes };
}

export function peopleNames(ctx: WorkflowContext, openIds: string[]): Map<string, string> {
  if (!openIds.length) return new Map();
  const rows = stmts(ctx).names.all(JSON.stringify([...new Set(openIds)])) as { openId: string; name: string }[];
  return new Map(rows.map((r) => [r.openId, r.name]));
}

/** Who follows the overdue villages: overdue stage count and village names per person, most first. */
export function overdueByPerson(villages: readonly OverdueVillage[]): OverduePerson[] {
  const by = new Map<string, OverduePerson>();
  for (const v of villages) {
    for (const r of v.responsible) {
      let e = by.get(r.openId);
      if (!e) by.set(r.openId, (e = { ...r, items: 0, villageCount: 0, villages: [] }));
      e.items += v.stages.length;
      if (e.villageCount++ < 10) e.villages.push(`${v.township}${v.village}`);
    }
  }
  return [...by.values()].sort((a, b) => (ROLE_ORDER[a.role] ?? 9) - (ROLE_ORDER[b.role] ?? 9) || b.items - a.items || cmpStr(a.name, b.name));
}

function notReportedPeople(villages: readonly NotReportedVillage[]): NotReportedPerson[] {
  const by = new Map<string, NotReportedPerson>();
  for (const v of villages) {
    for (const r of v.responsible) {
      let e = by.get(r.openId);
      if (!e) by.set(r.openId, (e = { ...r, villageCount: 0, villages: [] }));
      if (e.villageCount++ < 10) e.villages.push(`${v.township}${v.village}`);
    }
  }
  return [...by.values()].sort((a, b) => (ROLE_ORDER[a.role] ?? 9) - (ROLE_ORDER[b.role] ?? 9) || b.villageCount - a.villageCount || cmpStr(a.name, b.name));
}

interface Unit {
  id: number;
  name: string;
  parent: string | null;
  villages: number;
  done: number;
  total: number;
  dueTotal: number;
  dueDone: number;
  overdue: number;
  completedYesterday: number;
  week: WeekCounters;
}

/**
 * Every digest of one day, county by county (the scheduler's daily run and
 * the bench): leaders of a county share one load, and the county is dropped
 * once its leaders are done. Province-wide digests (admins) are built
 * alongside from the same loads, one county at a time, and come last: the
 * run never holds more than one county's facts.
 */
export function* buildDigests(ctx: WorkflowContext, leaders: readonly Principal[], date: IsoDate, opts: Omit<DigestOptions, 'cache'> & { optsFor?: (p: Principal) => DigestOptions } = {}): Generator<{ leader: Principal; data?: DigestData; error?: string }> {
  const cache = new DigestCache();
  opts = { ...opts, now: opts.now ?? ctx.clock.now() };
  const byCounty = new Map<number, Principal[]>();
  const wide: { leader: Principal; opts: DigestOptions; builder: DigestBuilder }[] = [];
  const refused: { leader: Principal; error: string }[] = [];
  for (const l of leaders) {
    try {
      const s = digestScope(ctx, l);
      if (s.kind === 'all' || s.countyId === null) {
        if (!canReceiveDigest(l)) throw new UserError(DIGEST_AUDIENCE_MESSAGE, 'forbidden');
        const o: DigestOptions = { ...opts, ...opts.optsFor?.(l), cache };
        wide.push({ leader: l, opts: o, builder: new DigestBuilder(ctx, s, date, o) });
      } else {
        const list = byCounty.get(s.countyId) ?? [];
        list.push(l);
        byCounty.set(s.countyId, list);
      }
    } catch (e) {
      refused.push({ leader: l, error: (e as Error).message });
    }
  }
  // Leaders with the same scope and role get the same figures: built once, the leader swapped in.
  // (Not with optsFor, which may differ per leader.)
  const shared = new Map<string, DigestData>();
  const one = (l: Principal): DigestData => {
    const s = digestScope(ctx, l);
    const key = `${s.kind}:${s.id}:${l.isAdmin}`;
    const prev = opts.optsFor ? undefined : shared.get(key);
    if (prev) return { ...prev, leader: { openId: l.openId, name: l.name, role: l.role, isAdmin: l.isAdmin } };
    const d = buildDigest(ctx, l, date, { ...opts, ...opts.optsFor?.(l), cache });
    if (!opts.optsFor) shared.set(key, d);
    return d;
  };
  // A province-wide digest needs every county's facts, fed in the order buildDigest uses.
  const wideScopes = wide.filter((w) => w.builder.scope.kind === 'all');
  const counties = new Set(wideScopes.length ? countiesOf(ctx, wideScopes[0]!.builder.scope).map((c) => c.id) : []);
  for (const id of byCounty.keys()) counties.add(id);
  for (const countyId of counties) {
    for (const l of byCounty.get(countyId) ?? []) yield { leader: l, data: one(l) };
    for (const w of wideScopes) w.builder.add(loadCounty(ctx, countyId, date, w.opts));
    cache.drop(countyId);
    shared.clear();
  }
  for (const w of wide) yield { leader: w.leader, data: w.builder.finish(w.leader, w.opts) };
  for (const r of refused) yield r;
}
