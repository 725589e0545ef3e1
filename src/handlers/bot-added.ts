import type { EventHandler } from '../bot/dispatcher.js';
import { isWellFormedId } from './ids.js';
import { sendTo } from './reply.js';

/** im.chat.member.bot.added_v1: a short welcome in the group the bot just joined. */
export const botAddedHandler: EventHandler = async (env, ctx) => {
  const chatId = env.payload.event.chat_id;
  if (!isWellFormedId(chatId) || !isWellFormedId(env.eventId)) {
    ctx.logger.warn('bot added to a chat without a usable chat_id; no welcome sent');
    return;
  }
  sendTo(ctx.outbox, { type: 'chat_id', id: chatId }, `welcome:${chatId}:${env.eventId}`).text(
    '大家好，我是换届助手。在群里 @我 并输入问题，我会按政策文件逐条作答；@我 输入「帮助」查看进度登记等用法。',
  );
};
