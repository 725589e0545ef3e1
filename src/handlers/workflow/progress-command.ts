import { UserError } from '../../errors.js';
import { recordStage } from '../../workflow/checkin.js';
import { today } from '../../workflow/context.js';
import { todayIn } from '../../workflow/dates.js';
import { findStage, matchTownship, matchVillage, findVillage } from '../../workflow/lookup.js';
import { stripSuffix, suggestionText } from '../../workflow/names.js';
import { canViewVillage, canWriteVillage, deny, type Principal } from '../../workflow/permissions.js';
import { allVillageLines, villageLines, villagesOf } from '../../workflow/progress.js';
import { describeStructure } from '../../workflow/structure.js';
import { canSeeTalkNote } from '../../workflow/talks.js';
import type { Village } from '../../workflow/types.js';
import type { WorkflowContext } from '../../workflow/context.js';
import { inPrivateChat, type CommandHandler } from '../command-router.js';
import { parseStageCommand } from './grammar.js';
import { overviewCard, villageCard } from './render.js';
import { contextFor, knownPrincipal, type WorkflowDeps } from './services.js';

/** 进度 (query or record) and 完成 (record 已完成). */
export function progressCommand(deps: WorkflowDeps, command: '进度' | '完成'): CommandHandler {
  return (c) => {
    const ctx = contextFor(deps, c.clock);
    // One instant per message: its day is 今天 for the grammar and the plan's rules alike.
    const sentAt = c.sentAt ?? c.clock.now();
    const day = todayIn(ctx.tz, sentAt);
    const parsed = parseStageCommand(command, c.command.args, day);
    const p = knownPrincipal(deps, c.actor, command, c.clock);
    if (parsed.kind === 'overview') {
      const vs = new Set(villagesOf(ctx, p).map((v) => v.id));
      const rows = allVillageLines(ctx, (v) => vs.has(v.id));
      c.reply.card(overviewCard({ title: '我负责的村(社区)进度', rows, today: day, footer: '查看某村：`进度 村名`；查看乡镇：`进度 乡镇名`。' }));
      return;
    }
    if (parsed.kind === 'query') {
      showTarget(ctx, deps, p, parsed.target, c.reply, command, inPrivateChat(c));
      return;
    }
    // Forgiving order: 「完成 资格审查 城西村」 works as well.
    let villageText = parsed.village;
    let stageText = parsed.stage;
    if (matchVillage(ctx.repos.roster, villageText, p).kind === 'none' && matchVillage(ctx.repos.roster, stageText, p).kind === 'found') {
      [villageText, stageText] = [stageText, villageText];
    }
    const village = findVillage(ctx.repos.roster, villageText, p);
    const stage = findStage(village.type, stageText);
    if (!canWriteVillage(p, village)) {
      deny(deps.repos.audit, p, command, `village:${village.id}`, `「${village.township}${village.name}」不是您负责的村(社区)，不能登记进度。如需调整分工请联系换届办。`, c.clock.now());
    }
    const r = recordStage(ctx, {
      sourceId: c.sourceId,
      actor: p.openId,
      actorName: p.name,
      village,
      stage,
      status: parsed.status,
      date: parsed.date,
      note: parsed.note,
      sentAt,
    });
    c.reply.text(`✅ 已登记：${r.summary}。\n如有误，发送「撤销」可撤回。`);
  };
}

function showTarget(ctx: WorkflowContext, deps: WorkflowDeps, p: Principal, target: string, reply: { card: (c: ReturnType<typeof villageCard>) => void }, command: string, privateChat: boolean): void {
  const roster = ctx.repos.roster;
  const day = today(ctx);
  // A township named exactly wins over villages whose full name starts with it (沁河镇 vs 沁河镇城西村).
  const t0 = matchTownship(roster, target);
  const exactTownship = t0.kind === 'found' && stripSuffix(t0.value.name) === stripSuffix(target);
  const v = exactTownship ? ({ kind: 'none', suggestions: [] } as const) : matchVillage(roster, target, p);
  if (v.kind === 'found') {
    if (!canViewVillage(p, v.value)) deny(deps.repos.audit, p, command, `village:${v.value.id}`, `您无权查看「${v.value.township}${v.value.name}」的进度。`, ctx.clock.now());
    reply.card(renderVillage(ctx, p, v.value, { privateChat }));
    return;
  }
  const t = t0;
  if (t.kind === 'found') {
    const town = t.value;
    const county = town.parentId ?? -1;
    const visible = p.isAdmin || (p.scopeId !== null && (p.scopeId === town.id || (p.scopeKind === 'county' && p.scopeId === county)));
    if (!visible) deny(deps.repos.audit, p, command, `township:${town.id}`, `您无权查看「${town.name}」的进度。`, ctx.clock.now());
    const rows = allVillageLines(ctx, (x) => x.townshipId === town.id);
    reply.card(overviewCard({ title: `${town.name} · 换届进度`, rows, today: day }));
    return;
  }
  if (v.kind === 'ambiguous') throw new UserError(`「${target}」对应多个村(社区)：${v.options.join('、')}。请写上乡镇名。`);
  const hints = [...v.suggestions, ...(t.kind === 'none' ? t.suggestions : [])];
  throw new UserError(`找不到村(社区)或乡镇「${target}」。${suggestionText(hints.slice(0, 5))}`.trim(), 'not_found');
}

/**
 * A village's card for `p`. Talk notes only for those who may see them
 * (interviewer, leaders of the scope, admins), and only in a private chat:
 * in a group everyone in it would read them.
 */
export function renderVillage(ctx: WorkflowContext, p: Principal, village: Village, opts: { privateChat?: boolean } = {}) {
  const day = today(ctx);
  const privateChat = opts.privateChat ?? true;
  const names = new Map(ctx.repos.roster.people().flatMap((x) => (x.openId ? [[x.openId, x.name] as const] : [])));
  let withheld = false;
  const talks = ctx.repos.talks
    .all()
    .filter((t) => t.region_id === village.id)
    .map((talk) => {
      const may = canSeeTalkNote(ctx, p, talk);
      if (may && !privateChat && talk.note) withheld = true;
      return { talk, showNote: may && privateChat };
    });
  const s = ctx.repos.structure.get(village.id);
  return villageCard({
    village,
    lines: villageLines(ctx, village, day),
    today: day,
    names,
    risks: ctx.repos.risks.byVillage(village.id),
    talks,
    structure: s ? describeStructure(s) : undefined,
    talkHint: withheld ? '谈话记录不在群聊中显示；请在与机器人的单聊中发送「进度 ' + village.name + '」查看。' : undefined,
  });
}
