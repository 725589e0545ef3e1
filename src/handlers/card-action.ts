import type { EventHandler, HandlerContext } from '../bot/dispatcher.js';
import type { LarkEnvelope } from '../bot/envelope.js';
import type { Actor, ActorResolver } from './actor.js';
import { isWellFormedId } from './ids.js';

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

/** card.action.trigger: routes on action.value.action to the registered handler. */
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
      return { toast: { type: 'error', content: '无法识别的操作。' } } satisfies CardActionResponse;
    }
    const v = value as Record<string, unknown>;
    const handler = typeof v.action === 'string' ? actions.get(v.action) : undefined;
    if (!handler) return { toast: { type: 'warning', content: '该按钮已失效，请重新发送命令。' } } satisfies CardActionResponse;
    return handler({
      action: v.action as string,
      value: v,
      formValue: (ev.action?.form_value && typeof ev.action.form_value === 'object' ? ev.action.form_value : {}) as Record<string, unknown>,
      actor: resolveActor(openId),
      openMessageId: typeof ev.context?.open_message_id === 'string' ? ev.context.open_message_id : undefined,
      openChatId: typeof ev.context?.open_chat_id === 'string' ? ev.context.open_chat_id : undefined,
      env,
      ctx,
    });
  };
}
