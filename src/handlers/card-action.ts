import type { EventHandler, HandlerContext } from '../bot/dispatcher.js';
import type { LarkEnvelope } from '../bot/envelope.js';
import { asAppError, AppError } from '../errors.js';
import { isZodError, withHint } from '../validation.js';
import type { Actor, ActorResolver } from './actor.js';
import { isWellFormedId } from './ids.js';
import { guardCardResponse, guardingSink, stringsIn, type GuardOptions } from './user-text.js';

/** What a card button or form sends back (action.value), plus the form's fields. */
export interface CardActionInput {
  action: string;
  value: Record<string, unknown>;
  formValue: Record<string, unknown>;
  actor: Actor;
  openMessageId?: string;
  openChatId?: string;
  env: LarkEnvelope;
  ctx: HandlerContext;
}

/** The synchronous answer to Lark (≤3 s): a toast and/or a replacement card. */
export interface CardActionResponse {
  toast?: { type: 'info' | 'success' | 'error' | 'warning'; content: string };
  card?: { type: 'raw'; data: Record<string, unknown> };
}

export type CardActionHandler = (input: CardActionInput) => Promise<CardActionResponse> | CardActionResponse;

/** Said for a press the service cannot read at all (no operator, no value). */
export const UNREADABLE_ACTION = '无法识别的操作，请在最新的卡片上重新操作，或发送「帮助」查看用法。';
/** What to do after a refusal that does not say it itself. */
const CARD_HINT = '请在最新的卡片上重新操作，或发送「帮助」查看用法';
/** Said for a button whose action no handler knows (an old card). */
export const STALE_ACTION = '该按钮已失效，请重新发送命令。';

/**
 * card.action.trigger: routes on action.value.action to the registered handler (`actions` is
 * the table of every card action: tests iterate it, so a new action is attacked with wrong types).
 * The answer and the messages of the press pass the user-text guard; a refusal a handler throws
 * (UserError, a schema's ZodError) is answered with its Chinese message and what to do next.
 */
export function createCardActionHandler(resolveActor: ActorResolver, actions: Map<string, CardActionHandler>): EventHandler {
  return async (env, ctx) => {
    const ev = env.payload.event as {
      operator?: { open_id?: unknown };
      action?: { value?: unknown; form_value?: unknown };
      context?: { open_message_id?: unknown; open_chat_id?: unknown };
    };
    const openId = ev.operator?.open_id;
    const value = ev.action?.value;
    if (!isWellFormedId(openId) || !isWellFormedId(env.eventId) || !value || typeof value !== 'object') {
      return { toast: { type: 'error', content: UNREADABLE_ACTION } } satisfies CardActionResponse;
    }
    const v = value as Record<string, unknown>;
    const handler = typeof v.action === 'string' ? actions.get(v.action) : undefined;
    if (!handler) return { toast: { type: 'warning', content: STALE_ACTION } } satisfies CardActionResponse;
    const formValue = (ev.action?.form_value && typeof ev.action.form_value === 'object' ? ev.action.form_value : {}) as Record<string, unknown>;
    const guard: GuardOptions = { logger: () => ctx.logger, echo: stringsIn([v, formValue]), where: `card action ${v.action as string}` };
    let answer: unknown;
    try {
      answer = await handler({
        action: v.action as string,
        value: v,
        formValue,
        actor: resolveActor(openId),
        openMessageId: typeof ev.context?.open_message_id === 'string' ? ev.context.open_message_id : undefined,
        openChatId: typeof ev.context?.open_chat_id === 'string' ? ev.context.open_chat_id : undefined,
        env,
        ctx: { eventId: ctx.eventId, clock: ctx.clock, outbox: guardingSink(ctx.outbox, guard), get logger() { return ctx.logger; } },
      });
    } catch (e) {
      // A bug is left to the intake (logged with the event, marked failed, answered 操作未成功，请稍后再试);
      // asAppError rethrows a full disk, which the intake answers itself and keeps the event for.
      if (!(e instanceof AppError) && !isZodError(e)) throw e;
      const err = asAppError(e);
      if (err.code === 'internal') ctx.logger.error({ err: e, action: v.action }, 'card action failed');
      answer = { toast: { type: 'error', content: withHint(err.userMessage, CARD_HINT) } } satisfies CardActionResponse;
    }
    return guardCardResponse(answer, guard);
  };
}
