import { UserError } from '../errors.js';
import type { RiskRow } from '../store/risks-repo.js';
import { applyChange, replayOf, type ChangeResult } from './changes.js';
import type { WorkflowContext } from './context.js';
import { matchName } from './names.js';
import type { Village } from './types.js';

/**
 * The risk register (问题清单/台账, seeds 001, 003). A report that fits one of
 * the 四必查 (seeds 000, 001: 署名举报的、线索清楚内容具体的、涉嫌拉票贿选的、
 * 群众反映强烈的) is marked 必查 and cannot be closed (销号) before a
 * follow-up record says what the check found.
 */
export const RISK_CATEGORIES = ['信访', '拉票贿选', '宗族宗派', '黑恶势力', '资格审查', '换届纪律', '群众矛盾', '稳定', '其他'] as const;
const CATEGORY_ALIASES: Record<string, string[]> = {
  信访: ['上访', '来信来访', '举报'],
  拉票贿选: ['拉票', '贿选', '买票', '贿赂'],
  宗族宗派: ['宗族', '宗派', '家族势力'],
  黑恶势力: ['黑恶', '村霸', '涉黑'],
  资格审查: ['资格', '负面清单', '不宜人选'],
  换届纪律: ['纪律', '违纪'],
  群众矛盾: ['矛盾', '纠纷'],
  稳定: ['维稳', '舆情', '安全'],
  其他: [],
};

export const SEVERITIES = ['一般', '较重', '严重'] as const;
export type Severity = (typeof SEVERITIES)[number];
const SEVERITY_WORDS: Record<string, Severity> = { 一般: '一般', 轻微: '一般', 较重: '较重', 重要: '较重', 严重: '严重', 重大: '严重', 紧急: '严重' };

export const MUST_CHECK_RULES: readonly { reason: string; test: RegExp }[] = [
  { reason: '署名举报', test: /(署名|实名|具名).{0,6}(举报|反映|来信)/ },
  { reason: '线索具体', test: /线索(清楚|清晰|具体|明确)|内容具体/ },
  { reason: '拉票贿选', test: /拉票|贿选|买票|贿赂|送钱|请客送礼/ },
  { reason: '群众反映强烈', test: /反映强烈|强烈反映|集体上访|群体上访|联名(举报|反映|信)/ },
];

export function findRiskCategory(text: string): string | undefined {
  const r = matchName(text, RISK_CATEGORIES.map((c) => ({ value: c as string, label: c, names: [c, ...(CATEGORY_ALIASES[c] ?? [])] })));
  return r.kind === 'found' ? r.value : undefined;
}

export function severityOf(text: string): Severity | undefined {
  return SEVERITY_WORDS[text];
}

/** Which of the 四必查 a report fits (category and text). */
export function mustCheckReasons(category: string, description: string, explicit: boolean): string[] {
  const text = `${category} ${description}`;
  const reasons = MUST_CHECK_RULES.filter((r) => r.test.test(text)).map((r) => r.reason);
  if (category === '拉票贿选' && !reasons.includes('拉票贿选')) reasons.push('拉票贿选');
  if (explicit && !reasons.length) reasons.push('标注必查');
  return reasons;
}

export function riskLabel(r: Pick<RiskRow, 'id'>): string {
  return `#${r.id}`;
}

export function openRisk(
  ctx: WorkflowContext,
  c: { sourceId: string; actor: string; village: Village; category: string; severity?: Severity; description: string; mustCheck: boolean },
): ChangeResult {
  const replay = replayOf(ctx, c.sourceId);
  if (replay) return replay;
  const description = c.description.trim().slice(0, 1000);
  if (!description) throw new UserError('请写明问题内容，例如「风险 城西村 信访 有群众反映拉票」。');
  const reasons = mustCheckReasons(c.category, description, c.mustCheck);
  const severity: Severity = c.severity ?? (reasons.length ? '较重' : '一般');
  let id = 0;
  return applyChange(ctx, {
    sourceId: c.sourceId,
    actor: c.actor,
    kind: 'risk.open',
    target: `village:${c.village.id}/risk`,
    touches: [],
    mutate: () => {
      id = ctx.repos.risks.insert({
        village_id: c.village.id,
        category: c.category,
        severity,
        description,
        must_check: reasons.length ? 1 : 0,
        must_reasons: reasons.length ? reasons.join('、') : null,
        opened_by: c.actor,
        opened_at: ctx.clock.now(),
      });
      return [{ entity: 'risk', key: { id } }];
    },
    summary: () =>
      `${c.village.township}${c.village.name}登记问题 #${id}（${c.category}，${severity}${reasons.length ? `，四必查：${reasons.join('、')}` : ''}）：${description}`,
  });
}

export function followUpRisk(ctx: WorkflowContext, c: { sourceId: string; actor: string; risk: RiskRow; village: Village; note: string }): ChangeResult {
  const replay = replayOf(ctx, c.sourceId);
  if (replay) return replay;
  const note = c.note.trim().slice(0, 1000);
  if (!note) throw new UserError(`请写明跟进情况，例如「风险 跟进 ${c.risk.id} 已约谈当事人，正在核查」。`);
  if (c.risk.status === '已结') throw new UserError(`问题 #${c.risk.id} 已销号，不能再跟进。`);
  return applyChange(ctx, {
    sourceId: c.sourceId,
    actor: c.actor,
    kind: 'risk.followup',
    target: `risk:${c.risk.id}`,
    touches: [],
    mutate: () => [{ entity: 'risk_followup', key: { id: ctx.repos.risks.addFollowup(c.risk.id, note, c.actor, ctx.clock.now()) } }],
    summary: `${c.village.name}问题 #${c.risk.id} 跟进：${note}`,
  });
}

export function closeRisk(ctx: WorkflowContext, c: { sourceId: string; actor: string; risk: RiskRow; village: Village; note?: string }): ChangeResult {
  const replay = replayOf(ctx, c.sourceId);
  if (replay) return replay;
  if (c.risk.status === '已结') throw new UserError(`问题 #${c.risk.id} 已经销号。`);
  const note = c.note?.trim().slice(0, 1000) ?? '';
  if (c.risk.must_check && ctx.repos.risks.followups(c.risk.id).length === 0) {
    throw new UserError(
      `问题 #${c.risk.id} 属于“四必查”（${c.risk.must_reasons ?? ''}），必须先登记核查跟进情况才能销号，例如「风险 跟进 ${c.risk.id} 经核查……」。`,
      'conflict',
    );
  }
  return applyChange(ctx, {
    sourceId: c.sourceId,
    actor: c.actor,
    kind: 'risk.close',
    target: `risk:${c.risk.id}`,
    touches: [{ entity: 'risk', key: { id: c.risk.id } }],
    mutate: () => {
      const made = note ? [{ entity: 'risk_followup' as const, key: { id: ctx.repos.risks.addFollowup(c.risk.id, `销号：${note}`, c.actor, ctx.clock.now()) } }] : [];
      ctx.repos.risks.close(c.risk.id, c.actor, ctx.clock.now());
      return made;
    },
    summary: `${c.village.name}问题 #${c.risk.id} 已销号${note ? `：${note}` : ''}`,
  });
}
