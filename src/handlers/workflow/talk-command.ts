import { card, md } from '../../bot/cards.js';
import { todayIn } from '../../workflow/dates.js';
import { deny } from '../../workflow/permissions.js';
import { canWriteTalk, findTalkCategory, pickTalk, recordTalk, talkPlace } from '../../workflow/talks.js';
import { inPrivateChat, type CommandHandler } from '../command-router.js';
import { parseTalkCommand } from './grammar.js';
import { talkLine } from './render.js';
import { contextFor, knownPrincipal, type WorkflowDeps } from './services.js';

/** 谈话 对象 完成 11月20日 已签承诺书 [记录]; 谈话 alone lists my talks. */
export function talkCommand(deps: WorkflowDeps): CommandHandler {
  return (c) => {
    const ctx = contextFor(deps, c.clock);
    // One instant per message: its day is 今天 for the grammar and the rules alike.
    const sentAt = c.sentAt ?? c.clock.now();
    const day = todayIn(ctx.tz, sentAt);
    const parsed = parseTalkCommand(c.command.args, day, (w) => findTalkCategory(w) !== undefined);
    const p = knownPrincipal(deps, c.actor, '谈话', c.clock);
    if (parsed.kind === 'list') {
      const mine = ctx.repos.talks.all().filter((t) => p.personId !== null && t.interviewer_ids.includes(p.personId));
      c.reply.card(
        card({
          title: '我的谈话安排',
          template: 'turquoise',
          // Their own notes, but not where a whole group reads along.
          elements: [
            md(mine.length ? mine.map((t) => `${talkPlace(ctx, t.region_id).label} · ${talkLine(t, day, inPrivateChat(c))}`).join('\n') : '没有分配给您的谈话。'),
            md('登记：`谈话 对象 完成 [日期] [已签承诺书] [记录]`' + (inPrivateChat(c) ? '' : '\n谈话记录不在群聊中显示，请在单聊中查看。')),
          ],
        }),
      );
      return;
    }
    const talk = pickTalk(ctx, p, parsed.subject, parsed.category ? findTalkCategory(parsed.category) : undefined);
    if (!canWriteTalk(ctx, p, talk)) {
      deny(deps.repos.audit, p, '谈话', `talk:${talk.id}`, `与「${talk.subject}」的${talk.category}不是安排给您的，只有谈话人、本级领导和管理员可以登记。`, c.clock.now());
    }
    const r = recordTalk(ctx, talk, {
      sourceId: c.sourceId,
      principal: p,
      subject: parsed.subject,
      status: parsed.status,
      date: parsed.date,
      signed: parsed.signed,
      note: parsed.note,
      sentAt,
    });
    c.reply.text(`✅ 已登记：${r.summary}。${parsed.note ? '\n谈话记录仅谈话人、本级领导和管理员可见。' : ''}\n如有误，发送「撤销」可撤回。`);
  };
}
