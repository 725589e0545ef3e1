import { card, md } from '../../bot/cards.js';
import { UserError } from '../../errors.js';
import { findVillage } from '../../workflow/lookup.js';
import { canViewVillage, canWriteVillage, deny } from '../../workflow/permissions.js';
import { villagesOf } from '../../workflow/progress.js';
import { closeRisk, findRiskCategory, followUpRisk, openRisk } from '../../workflow/risks.js';
import type { CommandHandler } from '../command-router.js';
import { parseRiskCommand } from './grammar.js';
import { riskLine } from './render.js';
import { contextFor, knownPrincipal, type WorkflowDeps } from './services.js';

/** 风险: open (村 类别 描述), follow up (跟进 编号 情况), close (销号 编号), list. */
export function riskCommand(deps: WorkflowDeps): CommandHandler {
  return (c) => {
    const ctx = contextFor(deps, c.clock);
    const parsed = parseRiskCommand(c.command.args, (w) => findRiskCategory(w) !== undefined);
    const p = knownPrincipal(deps, c.actor, '风险', c.clock);
    const roster = ctx.repos.roster;
    const now = c.clock.now();
    switch (parsed.kind) {
      case 'list': {
        const ids = new Set(villagesOf(ctx, p).map((v) => v.id));
        const open = ctx.repos.risks.all().filter((r) => ids.has(r.village_id) && r.status === '未结');
        const names = new Map(roster.villages().map((v) => [v.id, v.name]));
        c.reply.card(
          card({
            title: `问题清单（未结 ${open.length}）`,
            template: open.some((r) => r.must_check) ? 'red' : 'blue',
            elements: [md(open.length ? open.slice(0, 30).map((r) => `${names.get(r.village_id) ?? ''} ${riskLine(r)}`).join('\n') : '没有未结的问题。'), md('登记：`风险 村名 类别 描述`；跟进：`风险 跟进 编号 情况`；销号：`风险 销号 编号 说明`')],
          }),
        );
        return;
      }
      case 'village': {
        const v = findVillage(roster, parsed.village, p);
        if (!canViewVillage(p, v)) deny(deps.repos.audit, p, '风险', `village:${v.id}`, `您无权查看「${v.name}」的问题清单。`, now);
        const rs = ctx.repos.risks.byVillage(v.id);
        c.reply.card(card({ title: `${v.name} · 问题清单`, template: 'blue', elements: [md(rs.length ? rs.map(riskLine).join('\n') : '没有登记的问题。')] }));
        return;
      }
      case 'open': {
        const v = findVillage(roster, parsed.village, p);
        if (!canWriteVillage(p, v)) deny(deps.repos.audit, p, '风险', `village:${v.id}`, `「${v.township}${v.name}」不是您负责的村(社区)，不能登记问题。`, now);
        const category = parsed.category ? findRiskCategory(parsed.category)! : '其他';
        const r = openRisk(ctx, { sourceId: c.sourceId, actor: p.openId, village: v, category, severity: parsed.severity, description: parsed.description, mustCheck: parsed.mustCheck });
        c.reply.text(`✅ 已登记：${r.summary}。\n跟进：「风险 跟进 编号 情况」；销号：「风险 销号 编号 说明」。`);
        return;
      }
      case 'followup':
      case 'close': {
        const risk = ctx.repos.risks.get(parsed.id);
        if (!risk) throw new UserError(`没有编号为 ${parsed.id} 的问题。发送「风险」查看未结问题。`, 'not_found');
        const v = roster.village(risk.village_id)!;
        if (!canWriteVillage(p, v)) deny(deps.repos.audit, p, '风险', `risk:${risk.id}`, `问题 #${risk.id} 属于「${v.name}」，不是您负责的村(社区)。`, now);
        const r =
          parsed.kind === 'followup'
            ? followUpRisk(ctx, { sourceId: c.sourceId, actor: p.openId, risk, village: v, note: parsed.note })
            : closeRisk(ctx, { sourceId: c.sourceId, actor: p.openId, risk, village: v, note: parsed.note });
        c.reply.text(`✅ ${r.summary}。`);
        return;
      }
    }
  };
}
