import { card, escapeMd, hr, md, type Card } from '../../bot/cards.js';
import { today, type WorkflowContext } from '../../workflow/context.js';
import type { Principal } from '../../workflow/permissions.js';
import { completion } from '../../workflow/plan.js';
import { allVillageLines, dueItemsFor, villagesOf } from '../../workflow/progress.js';
import { inPrivateChat, type CommandHandler } from '../command-router.js';
import { dueLine, talkLine } from './render.js';
import { contextFor, knownPrincipal, type WorkflowDeps } from './services.js';

/** 我的: my villages with their completion, my due items (overdue first), my talks. */
export function myCommand(deps: WorkflowDeps): CommandHandler {
  return (c) => {
    const ctx = contextFor(deps, c.clock);
    const p = knownPrincipal(deps, c.actor, '我的', c.clock);
    c.reply.card(buildMyCard(ctx, p, { showNotes: inPrivateChat(c) }));
  };
}

/** `showNotes`: the person's own talk notes (not in a group chat, where everyone reads along). */
export function buildMyCard(ctx: WorkflowContext, p: Principal, opts: { showNotes?: boolean } = {}): Card {
  const day = today(ctx);
  const roleText = p.isAdmin && !p.role ? '管理员' : (p.role ?? '');
  const scope = p.scopeId !== null ? ctx.repos.roster.region(p.scopeId)?.name : undefined;
  const elements = [md(`${escapeMd(p.name)}（${roleText}${scope ? `，${escapeMd(scope)}` : ''}）`)];
  const own = new Set(p.villageIds);
  const mine = allVillageLines(ctx, (v) => own.has(v.id), day);
  if (mine.length) {
    elements.push(
      hr(),
      md(
        '**我负责的村(社区)**\n' +
          mine
            .map(({ village, lines }) => {
              const cp = completion(lines);
              const late = lines.filter((l) => l.overdueDays > 0).length;
              return `${escapeMd(village.name)}（${escapeMd(village.township)}）完成 ${cp.done}/${cp.total}${late ? ` 🔴逾期${late}` : ''}`;
            })
            .join('\n'),
      ),
    );
  }
  if (p.personId !== null) {
    const items = dueItemsFor(ctx, { id: p.personId }, { day, horizonDays: 7 });
    const overdue = items.filter((i) => i.overdueDays > 0);
    const soon = items.filter((i) => i.overdueDays <= 0);
    elements.push(hr());
    elements.push(
      md(
        (overdue.length ? `**已逾期（${overdue.length}）**\n${overdue.slice(0, 20).map((i) => dueLine(i, day)).join('\n')}\n` : '') +
          (soon.length ? `**7天内到期（${soon.length}）**\n${soon.slice(0, 20).map((i) => dueLine(i, day)).join('\n')}` : overdue.length ? '' : '近 7 天没有到期事项。'),
      ),
    );
    const talks = ctx.repos.talks.all().filter((t) => t.interviewer_ids.includes(p.personId!));
    if (talks.length) {
      const held = talks.filter((t) => t.status === '已谈').length;
      // The interviewer sees their own talk notes (in private).
      elements.push(hr(), md(`**我的谈话**（已谈 ${held}/${talks.length}）\n` + talks.slice(0, 20).map((t) => talkLine(t, day, opts.showNotes ?? true)).join('\n')));
    }
  }
  if (p.role === '领导' || p.isAdmin) {
    const scoped = villagesOf(ctx, p);
    const rows = allVillageLines(ctx, (v) => scoped.some((x) => x.id === v.id), day);
    const done = rows.reduce((n, r) => n + completion(r.lines).done, 0);
    const total = rows.reduce((n, r) => n + completion(r.lines).total, 0);
    const late = rows.reduce((n, r) => n + r.lines.filter((l) => l.overdueDays > 0).length, 0);
    elements.push(hr(), md(`**${scope ? escapeMd(scope) : '全部'}范围**：${rows.length} 个村(社区)，阶段完成 ${done}/${total}${late ? `，🔴 逾期 ${late} 项` : ''}。发送「进度 乡镇名」查看明细。`));
  }
  if (!mine.length && !(p.role === '领导' || p.isAdmin)) elements.push(hr(), md('花名册中还没有分配给您的村(社区)。'));
  elements.push(md('登记进度：`完成 村名 阶段`；记录谈话：`谈话 对象 完成`；发送「撤销」撤回最近一次登记。'));
  return card({ title: '我的换届工作', subtitle: day, template: 'turquoise', elements, summary: '我的换届工作' });
}
