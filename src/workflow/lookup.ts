import { UserError } from '../errors.js';
import type { RosterRepo } from '../store/roster-repo.js';
import { canonicalName, exactNameIndex, matchName, suggestionText, type MatchResult, type NameCandidate } from './names.js';
import type { Principal } from './permissions.js';
import { inScope } from './permissions.js';
import { stagesFor, type StageTemplate } from './stage-templates.js';
import type { Person, Region, Village, VillageType } from './types.js';

/** Finding villages, townships, stages and people by what someone typed. */

export function villageCandidates(villages: readonly Village[]): NameCandidate<Village>[] {
  const count = new Map<string, number>();
  for (const v of villages) count.set(v.name, (count.get(v.name) ?? 0) + 1);
  return villages.map((v) => ({
    value: v,
    label: (count.get(v.name) ?? 0) > 1 ? `${v.township}${v.name}` : v.name,
    names: [v.name, `${v.township}${v.name}`],
  }));
}

interface VillageIndex {
  version: number;
  all: Village[];
  candidates: NameCandidate<Village>[];
  /** Canonical name (村名, or 乡镇+村名) → villages. */
  exact: Map<string, Village[]>;
}
const villageIndexes = new WeakMap<RosterRepo, VillageIndex>();

/**
 * The village list parsed for name lookup, kept until a region changes: a
 * province has 30,000 villages, and every check-in names one.
 */
function villageIndex(roster: RosterRepo): VillageIndex {
  const version = roster.regionsVersion();
  const cached = villageIndexes.get(roster);
  if (cached?.version === version) return cached;
  const all = roster.villages();
  const index = { version, all, candidates: villageCandidates(all), exact: exactNameIndex(all, (v) => [v.name, `${v.township}${v.name}`]) };
  villageIndexes.set(roster, index);
  return index;
}

/**
 * A village by name. When the name fits several, the sender's own villages
 * win, then those of their scope; otherwise the reply lists them.
 */
export function matchVillage(roster: RosterRepo, text: string, p?: Principal): MatchResult<Village> {
  const { all, candidates, exact } = villageIndex(roster);
  // One exact name (or one among the sender's own villages, then their scope) is what the
  // full matching below would find too; anything else takes the full path.
  const hits = exact.get(canonicalName(text)) ?? [];
  if (hits.length === 1) return { kind: 'found', value: hits[0]! };
  if (hits.length > 1 && p) {
    const own = hits.filter((v) => p.villageIds.has(v.id));
    if (own.length === 1) return { kind: 'found', value: own[0]! };
  }
  const tiers: Village[][] = p ? [all.filter((v) => p.villageIds.has(v.id)), all.filter((v) => inScope(p, v))] : [];
  const r = matchName(text, candidates);
  if (r.kind !== 'ambiguous') return r;
  for (const tier of tiers) {
    const t = matchName(text, villageCandidates(tier));
    if (t.kind === 'found') return t;
  }
  return r;
}

export function findVillage(roster: RosterRepo, text: string, p?: Principal): Village {
  const r = matchVillage(roster, text, p);
  if (r.kind === 'found') return r.value;
  if (r.kind === 'ambiguous') throw new UserError(`「${text}」对应多个村(社区)：${r.options.join('、')}。请写上乡镇名，例如「${r.options[0]}」。`);
  throw new UserError(`找不到村(社区)「${text}」。${suggestionText(r.suggestions)}`.trim(), 'not_found');
}

export function matchTownship(roster: RosterRepo, text: string): MatchResult<Region> {
  return matchName(
    text,
    roster.townships().map((t) => ({ value: t, label: t.name, names: [t.name] })),
  );
}

export function stageCandidates(type: VillageType): NameCandidate<StageTemplate>[] {
  return stagesFor(type).map((s) => ({ value: s, label: s.name, names: [s.name, ...s.aliases] }));
}

export function matchStage(type: VillageType, text: string): MatchResult<StageTemplate> {
  return matchName(text, stageCandidates(type));
}

export function findStage(type: VillageType, text: string): StageTemplate {
  const r = matchStage(type, text);
  if (r.kind === 'found') return r.value;
  if (r.kind === 'ambiguous') throw new UserError(`「${text}」可能是：${r.options.join('、')}，请写全阶段名称。`);
  throw new UserError(`没有「${text}」这个阶段。${suggestionText(r.suggestions)}发送「进度 村名」可查看全部阶段。`, 'not_found');
}

/** The person's open_id, or a clear refusal for someone known only by phone/email (未绑定). */
export function boundOpenId(p: Person): string {
  if (p.openId) return p.openId;
  throw new UserError(`${p.name} 尚未绑定飞书账号（花名册中只有手机号或邮箱）。TA 在飞书中给机器人发一条消息即可自动绑定；也可运行 npm run cli -- people --unbound 查看原因。`, 'not_found');
}

export function findPerson(roster: RosterRepo, text: string): Person {
  const people = roster.people();
  const count = new Map<string, number>();
  for (const x of people) count.set(x.name, (count.get(x.name) ?? 0) + 1);
  const r = matchName(
    text,
    people.map((x) => ({ value: x, label: (count.get(x.name) ?? 0) > 1 ? `${x.name}(${x.openId})` : x.name, names: x.openId ? [x.name, x.openId] : [x.name] })),
  );
  if (r.kind === 'found') return r.value;
  if (r.kind === 'ambiguous') throw new UserError(`「${text}」对应多人：${r.options.join('、')}，请用 open_id 指明。`);
  throw new UserError(`花名册中没有「${text}」。${suggestionText(r.suggestions)}`.trim(), 'not_found');
}
