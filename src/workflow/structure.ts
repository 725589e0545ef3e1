import { z } from 'zod';
import { UserError } from '../errors.js';
import type { StructureRow } from '../store/structure-repo.js';
import { applyChange, replayOf, type ChangeResult } from './changes.js';
import type { WorkflowContext } from './context.js';
import { isSuperseded, refuseSuperseded } from './ordering.js';
import type { Village } from './types.js';

/**
 * The new committee's structure (结构) and the targets it is measured
 * against. Defaults are the seed's 4个100% and 1个50% (seed 001, a 2020
 * township): 一肩挑 100%; at least one college graduate, one member under 35
 * and one woman in every committee; Party members over half of the 村委会.
 * A county can set its own (wf_settings `structure_targets`).
 */
export interface StructureTargets {
  oneShoulder: boolean;
  graduatesMin: number;
  under35Min: number;
  womenMin: number;
  /** Party-member share of the 村委会 must be strictly above this. */
  partyRatioAbove: number;
}

export const DEFAULT_TARGETS: StructureTargets = { oneShoulder: true, graduatesMin: 1, under35Min: 1, womenMin: 1, partyRatioAbove: 0.5 };

const targetsSchema = z.object({
  oneShoulder: z.boolean(),
  graduatesMin: z.number().int().min(0).max(20),
  under35Min: z.number().int().min(0).max(20),
  womenMin: z.number().int().min(0).max(20),
  partyRatioAbove: z.number().min(0).max(1),
});

export function getTargets(ctx: WorkflowContext): StructureTargets {
  const raw = ctx.repos.structure.setting('structure_targets');
  const r = targetsSchema.partial().safeParse(raw ?? {});
  return { ...DEFAULT_TARGETS, ...(r.success ? r.data : {}) };
}

export function setTargets(ctx: WorkflowContext, actor: string, t: Partial<StructureTargets>): StructureTargets {
  const next = targetsSchema.parse({ ...getTargets(ctx), ...t });
  const before = getTargets(ctx);
  ctx.repos.db.transaction(() => {
    ctx.repos.structure.setSetting('structure_targets', next);
    ctx.repos.audit.record({ at: ctx.clock.now(), actor, action: 'settings.structure_targets', target: 'settings', before, after: next });
  }).immediate();
  return next;
}

/** The fields of a structure report; each optional (a report may complete an earlier one). */
export interface StructureInput {
  oneShoulder?: boolean;
  graduates?: number;
  under35?: number;
  women?: number;
  partyRatio?: number;
}

export const STRUCTURE_FIELDS: readonly { key: keyof StructureInput; name: string; aliases: string[]; kind: 'bool' | 'count' | 'ratio' }[] = [
  { key: 'oneShoulder', name: '一肩挑', aliases: ['书记主任一肩挑', '书记主任一人兼任'], kind: 'bool' },
  { key: 'graduates', name: '大学生', aliases: ['大学', '大专以上', '大学生人数', '学历'], kind: 'count' },
  { key: 'under35', name: '35岁以下', aliases: ['35周岁以下', '年轻干部', '青年', '35岁'], kind: 'count' },
  { key: 'women', name: '女性', aliases: ['妇女', '女', '女性成员'], kind: 'count' },
  { key: 'partyRatio', name: '党员比例', aliases: ['党员占比', '村委会党员比例', '居委会党员比例', '党员'], kind: 'ratio' },
];

export interface Compliance {
  oneShoulder: boolean | null;
  graduates: boolean | null;
  under35: boolean | null;
  women: boolean | null;
  partyRatio: boolean | null;
  /** All five met (null when something is not reported yet). */
  all: boolean | null;
}

export function complianceOf(s: StructureRow | undefined, t: StructureTargets): Compliance {
  const c = {
    oneShoulder: s?.one_shoulder == null ? null : !t.oneShoulder || s.one_shoulder === 1,
    graduates: s?.graduates == null ? null : s.graduates >= t.graduatesMin,
    under35: s?.under35 == null ? null : s.under35 >= t.under35Min,
    women: s?.women == null ? null : s.women >= t.womenMin,
    partyRatio: s?.party_ratio == null ? null : s.party_ratio > t.partyRatioAbove,
  };
  const vals = Object.values(c);
  return { ...c, all: vals.includes(false) ? false : vals.includes(null) ? null : true };
}

/** Rates over villages that reported: {met, reported, total} per target (digest input). */
export function structureCompliance(ctx: WorkflowContext, villageIds: readonly number[]): Record<keyof Omit<Compliance, 'all'> | 'all', { met: number; reported: number; total: number }> {
  const t = getTargets(ctx);
  const byVillage = new Map(ctx.repos.structure.all().map((r) => [r.village_id, r]));
  const keys = ['oneShoulder', 'graduates', 'under35', 'women', 'partyRatio', 'all'] as const;
  const out = Object.fromEntries(keys.map((k) => [k, { met: 0, reported: 0, total: villageIds.length }])) as Record<(typeof keys)[number], { met: number; reported: number; total: number }>;
  for (const id of villageIds) {
    const c = complianceOf(byVillage.get(id), t);
    for (const k of keys) {
      if (c[k] === null) continue;
      out[k].reported++;
      if (c[k]) out[k].met++;
    }
  }
  return out;
}

/** `sentAt`: when the sender sent it (the message's create_time), default now; it orders check-ins (ordering.ts). */
export function recordStructure(ctx: WorkflowContext, c: { sourceId: string; actor: string; village: Village; input: StructureInput; sentAt?: number }): ChangeResult {
  const replay = replayOf(ctx, c.sourceId);
  if (replay) return replay;
  const election = ctx.repos.plan.stage(c.village.id, 'committee_election');
  if (election?.status !== '已完成') {
    const name = c.village.type === '社区' ? '居委会选举' : '村委会选举';
    throw new UserError(`${c.village.name}的「${name}」尚未登记完成；新一届班子结构须在选举完成后登记。`, 'conflict');
  }
  const sentAt = c.sentAt ?? ctx.clock.now();
  const target = `village:${c.village.id}/structure`;
  const refuseIfOutdated = (row: StructureRow | undefined) => {
    if (!row || !isSuperseded(row.as_of, sentAt)) return;
    refuseSuperseded(ctx, {
      sourceId: c.sourceId,
      actor: c.actor,
      kind: 'structure',
      target,
      sentAt,
      asOf: row.as_of!,
      current: row,
      attempted: c.input,
      now: `${c.village.name}新一届班子结构现在是：${describeStructure(row)}`,
    });
  };
  const prev = ctx.repos.structure.get(c.village.id);
  refuseIfOutdated(prev);
  const i = c.input;
  const next: StructureRow = {
    village_id: c.village.id,
    one_shoulder: i.oneShoulder === undefined ? (prev?.one_shoulder ?? null) : i.oneShoulder ? 1 : 0,
    graduates: i.graduates ?? prev?.graduates ?? null,
    under35: i.under35 ?? prev?.under35 ?? null,
    women: i.women ?? prev?.women ?? null,
    party_ratio: i.partyRatio ?? prev?.party_ratio ?? null,
    updated_by: c.actor,
    updated_at: ctx.clock.now(),
    as_of: sentAt,
  };
  const comp = complianceOf(next, getTargets(ctx));
  const unmet = STRUCTURE_FIELDS.filter((f) => comp[f.key] === false).map((f) => f.name);
  const summary = `${c.village.township}${c.village.name}新一届班子结构：${describeStructure(next)}${unmet.length ? `；未达标：${unmet.join('、')}` : comp.all ? '；各项指标均已达标' : ''}`;
  return applyChange(ctx, {
    sourceId: c.sourceId,
    actor: c.actor,
    kind: 'structure',
    target,
    touches: [{ entity: 'structure', key: { village_id: c.village.id } }],
    mutate: () => {
      refuseIfOutdated(ctx.repos.structure.get(c.village.id));
      ctx.repos.structure.upsert(next);
    },
    summary,
  });
}

export function describeStructure(s: StructureRow): string {
  const v = (x: number | null, unit = '名') => (x === null ? '未报' : `${x}${unit}`);
  return [
    `一肩挑${s.one_shoulder === null ? '未报' : s.one_shoulder ? '是' : '否'}`,
    `大学生${v(s.graduates)}`,
    `35岁以下${v(s.under35)}`,
    `女性${v(s.women)}`,
    `党员比例${s.party_ratio === null ? '未报' : `${Math.round(s.party_ratio * 1000) / 10}%`}`,
  ].join('，');
}
