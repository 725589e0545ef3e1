import { addDays, daysBetween } from './dates.js';
import { stagesFor, type StageTemplate } from './stage-templates.js';
import type { StageProgressRow } from '../store/plan-repo.js';
import type { IsoDate, StageStatus, Village } from './types.js';

/** One stage of one village as planned and as reported. */
export interface StageLine {
  stage: StageTemplate;
  /** Override, else election day + offset; null when the village has no election day yet. */
  deadline: IsoDate | null;
  deadlineSource: 'template' | 'override' | null;
  status: StageStatus;
  completedOn: IsoDate | null;
  note: string | null;
  updatedBy: string | null;
  updatedAt: number | null;
  /** Days past the deadline when not 已完成 (0 = due today is not overdue). */
  overdueDays: number;
}

/** The stage deadlines of a village: counted back from the election day (倒排工期), overrides winning. */
export function deadlineFor(village: Pick<Village, 'electionDay'>, stage: StageTemplate, overrides?: ReadonlyMap<string, string>): { deadline: IsoDate | null; source: StageLine['deadlineSource'] } {
  const o = overrides?.get(stage.key);
  if (o) return { deadline: o, source: 'override' };
  if (!village.electionDay) return { deadline: null, source: null };
  return { deadline: addDays(village.electionDay, stage.offsetDays), source: 'template' };
}

export function villagePlan(
  village: Village,
  overrides: ReadonlyMap<string, string> | undefined,
  progress: ReadonlyMap<string, StageProgressRow> | undefined,
  today: IsoDate,
): StageLine[] {
  return stagesFor(village.type).map((stage) => {
    const { deadline, source } = deadlineFor(village, stage, overrides);
    const p = progress?.get(stage.key);
    const status = p?.status ?? '未开始';
    const overdue = deadline && status !== '已完成' && !stage.optional ? Math.max(0, daysBetween(deadline, today)) : 0;
    return {
      stage,
      deadline,
      deadlineSource: source,
      status,
      completedOn: p?.completed_on ?? null,
      note: p?.note ?? null,
      updatedBy: p?.updated_by ?? null,
      updatedAt: p?.updated_at ?? null,
      overdueDays: overdue,
    };
  });
}

/** Share of the required (non-optional) stages that are 已完成. */
export function completion(lines: readonly StageLine[]): { done: number; total: number } {
  const req = lines.filter((l) => !l.stage.optional);
  return { done: req.filter((l) => l.status === '已完成').length, total: req.length };
}
