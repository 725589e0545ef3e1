import { card, md } from '../../bot/cards.js';
import { findVillage } from '../../workflow/lookup.js';
import { canViewVillage, canWriteVillage, deny } from '../../workflow/permissions.js';
import { complianceOf, describeStructure, getTargets, recordStructure, STRUCTURE_FIELDS } from '../../workflow/structure.js';
import type { CommandHandler } from '../command-router.js';
import { parseStructureCommand } from './grammar.js';
import { contextFor, knownPrincipal, type WorkflowDeps } from './services.js';

/** 结构 村 一肩挑=是 大学生=1 35岁以下=1 女性=1 党员比例=60%; 结构 村 shows it with the targets. */
export function structureCommand(deps: WorkflowDeps): CommandHandler {
  return (c) => {
    const ctx = contextFor(deps, c.clock);
    const parsed = parseStructureCommand(c.command.args);
    const p = knownPrincipal(deps, c.actor, '结构', c.clock);
    const v = findVillage(ctx.repos.roster, parsed.village, p);
    if (parsed.kind === 'show') {
      if (!canViewVillage(p, v)) deny(deps.repos.audit, p, '结构', `village:${v.id}`, `您无权查看「${v.name}」的班子结构。`, c.clock.now());
      const s = ctx.repos.structure.get(v.id);
      const comp = complianceOf(s, getTargets(ctx));
      const marks = STRUCTURE_FIELDS.map((f) => `${f.name}：${comp[f.key] === null ? '未报' : comp[f.key] ? '✅ 达标' : '❌ 未达标'}`).join('\n');
      c.reply.card(card({ title: `${v.name} · 新一届班子结构`, template: comp.all === false ? 'orange' : 'blue', elements: [md(s ? describeStructure(s) : '尚未登记。'), md(marks)] }));
      return;
    }
    if (!canWriteVillage(p, v)) deny(deps.repos.audit, p, '结构', `village:${v.id}`, `「${v.township}${v.name}」不是您负责的村(社区)，不能登记班子结构。`, c.clock.now());
    const r = recordStructure(ctx, { sourceId: c.sourceId, actor: p.openId, village: v, input: parsed.input, sentAt: c.sentAt });
    c.reply.text(`✅ 已登记：${r.summary}。`);
  };
}
