import type { EventHandler } from '../../bot/dispatcher.js';
import { asAppError, AppError } from '../../errors.js';
import { isKnown, loadPrincipal, notInRosterMessage } from '../../workflow/permissions.js';
import type { ActorResolver } from '../actor.js';
import { isWellFormedId } from '../ids.js';
import type { CommandRouter } from '../command-router.js';
import { buildHelpCard } from '../help-card.js';
import { sendTo } from '../reply.js';
import { buildCheckinForm } from './checkin-form.js';
import { buildMyCard } from './my-command.js';
import { contextFor, type WorkflowDeps } from './services.js';

/**
 * application.bot.menu_v6: the bot's menu in Lark. Configure the menu items
 * with these event keys (飞书开放平台 → 机器人 → 机器人自定义菜单 → 推送事件):
 * my (我的), checkin (提交进度), digest (日报), help (帮助). The answer goes
 * to the person who pressed it, under the intent menu:<event_id>.
 */
export const MENU_KEYS: Record<string, 'my' | 'checkin' | 'digest' | 'help'> = {
  my: 'my',
  我的: 'my',
  checkin: 'checkin',
  submit_progress: 'checkin',
  提交进度: 'checkin',
  digest: 'digest',
  日报: 'digest',
  help: 'help',
  帮助: 'help',
};

export function menuHandler(deps: WorkflowDeps, opts: { resolveActor: ActorResolver; commands: CommandRouter; qaAvailable: () => boolean }): EventHandler {
  return async (env, ctx) => {
    const ev = env.payload.event as { operator?: { operator_id?: { open_id?: unknown } }; event_key?: unknown };
    const openId = ev.operator?.operator_id?.open_id;
    if (!isWellFormedId(openId) || !isWellFormedId(env.eventId)) {
      ctx.logger.warn('menu event without a usable operator open_id; ignored');
      return;
    }
    const reply = sendTo(ctx.outbox, { type: 'open_id', id: openId }, `menu:${env.eventId}`);
    const key = MENU_KEYS[String(ev.event_key ?? '')];
    const actor = opts.resolveActor(openId);
    try {
      switch (key) {
        case 'help':
          reply.card(buildHelpCard({ qaAvailable: opts.qaAvailable() }));
          return;
        case 'digest':
          await opts.commands.route({ command: { name: '日报', args: [], rest: '' }, actor, reply, clock: ctx.clock, logger: ctx.logger, sourceId: `menu:${env.eventId}`, outbox: ctx.outbox });
          return;
        case 'my':
        case 'checkin': {
          const wctx = contextFor(deps, ctx.clock);
          const p = loadPrincipal(deps.repos.roster, actor);
          if (!isKnown(p)) {
            deps.repos.audit.record({ at: ctx.clock.now(), actor: openId, action: `denied:menu:${key}`, target: null, detail: notInRosterMessage(p) });
            reply.text(notInRosterMessage(p));
            return;
          }
          reply.card(key === 'my' ? buildMyCard(wctx, p) : buildCheckinForm(wctx, p));
          return;
        }
        default:
          ctx.logger.warn({ event_key: ev.event_key }, 'unknown bot menu key');
          reply.text('该菜单暂不可用。发送「帮助」查看用法。');
      }
    } catch (e) {
      const err = asAppError(e);
      if (!(e instanceof AppError) || err.code === 'internal') ctx.logger.error({ err: e }, 'menu handler failed');
      reply.text(err.userMessage);
    }
  };
}
