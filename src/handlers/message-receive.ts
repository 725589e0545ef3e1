import type { EventHandler, HandlerContext } from '../bot/dispatcher.js';
import { AppError, asAppError } from '../errors.js';
import type { ActorResolver } from './actor.js';
import type { CommandRouter } from './command-router.js';
import { suggestCommand, suggestionMessage, suggestSpacing } from './command-suggest.js';
import { normalizeInput, parseCommand } from './commands.js';
import { buildHelpCard } from './help-card.js';
import { extractText, mentionsBot, readMessageEvent, type IncomingMessage } from './message-content.js';
import { messageSentAt } from './message-time.js';
import type { QaEntry } from './qa-entry.js';
import { replyToMessage } from './reply.js';
import { classifySmallTalk, isWordlessMedia, smallTalkReply } from './small-talk.js';
import { guardingSink } from './user-text.js';

export interface MessageHandlerDeps {
  botOpenId: () => string | undefined;
  resolveActor: ActorResolver;
  commands: CommandRouter;
  qa: QaEntry;
  qaAvailable: boolean;
  /** Files sent to the bot (roster workbooks, issue 4); absent → a polite refusal. */
  onFile?: EventHandler;
  /**
   * Online (issue 14): a sender the roster does not know by open_id may be an unbound
   * person (known by phone/email); this binds them, or says why not and whom to ask.
   */
  identify?: (openId: string, command?: string) => Promise<{ bound: true } | { bound: false; message: string | null }>;
}

/**
 * im.message.receive_v1: every p2p message; in groups only those that @-mention
 * the bot (by open_id, never by name). Commands go to the router; small talk
 * (greetings, thanks, emoji, stickers) gets a short reply and a near-command
 * "您是不是要：…", neither reaching the Q&A (nor its question log); the rest is
 * a question for the Q&A.
 */
export function createMessageHandler(deps: MessageHandlerDeps): EventHandler {
  return async (env, event) => {
    // Every reply of this message passes the user-text guard; what the person wrote may be quoted back.
    const echo: string[] = [];
    const ctx: HandlerContext = {
      eventId: event.eventId,
      clock: event.clock,
      outbox: guardingSink(event.outbox, { logger: () => event.logger, echo, where: 'message' }),
      get logger() {
        return event.logger;
      },
    };
    const msg = readMessageEvent(env.payload.event);
    if (!msg) {
      ctx.logger.warn('message event without message or sender; ignored');
      return;
    }
    if (msg.senderType !== 'user') return; // never answer other bots (loops)
    if (msg.chatType !== 'p2p') {
      const bot = deps.botOpenId();
      if (!bot) ctx.logger.warn('bot open_id unknown: group messages cannot be matched to the bot and are ignored');
      if (!mentionsBot(msg, bot)) return;
    }
    const reply = replyToMessage(ctx.outbox, { messageId: msg.messageId, chatId: msg.chatId });
    if (msg.messageType === 'file' && deps.onFile) return deps.onFile(env, ctx);
    if (isWordlessMedia(msg.messageType)) {
      reply.text(smallTalkReply('media'));
      return;
    }
    const text = extractText(msg, deps.botOpenId());
    if (text === null) {
      reply.text('目前只能处理文字消息。发送「帮助」查看用法。');
      return;
    }
    if (text === '') {
      // A post of images or emoji only; a bare @-mention asks what the bot can do.
      if (msg.messageType === 'post') reply.text(smallTalkReply('media'));
      else reply.card(buildHelpCard({ qaAvailable: deps.qaAvailable }));
      return;
    }
    echo.push(text, normalizeInput(text), ...normalizeInput(text).split(/[\s,，、;；=:：]+/));
    let actor = deps.resolveActor(msg.senderOpenId);
    const command = parseCommand(text);
    try {
      if (actor.personId === undefined && deps.identify) {
        const refusedAs = command && command.name !== '帮助' && !actor.isAdmin ? command.name : undefined;
        const who = await deps.identify(msg.senderOpenId, refusedAs);
        if (who.bound) actor = deps.resolveActor(msg.senderOpenId);
        else if (refusedAs && who.message) {
          reply.text(who.message);
          return;
        }
      }
      if (!command) {
        const answer = notAQuestion(text, mentionedNames(msg, deps.botOpenId()), deps.commands);
        if (answer) {
          ctx.logger.info({ kind: answer.kind }, 'not a question: answered without the Q&A');
          reply.text(answer.text);
        } else {
          await deps.qa(text, actor, reply);
        }
      } else if (command.name === '帮助') {
        reply.card(buildHelpCard({ qaAvailable: deps.qaAvailable }));
      } else {
        // "完成 城西村承诺谈话": refused as typed, read by the grammar once split.
        const spacing = suggestSpacing(command, deps.commands.words());
        if (spacing) {
          ctx.logger.info({ kind: 'spacing', command: command.name }, 'command refused as typed: suggested the split');
          reply.text(suggestionMessage(spacing));
          return;
        }
        await deps.commands.route({ command, actor, reply, clock: ctx.clock, logger: ctx.logger, sourceId: msg.messageId, sentAt: messageSentAt(msg.createTime, ctx.clock.now()), outbox: ctx.outbox, chatType: msg.chatType });
      }
    } catch (e) {
      // The person always hears back: a refusal in their language, or an apology for our fault.
      const err = asAppError(e);
      if (!(e instanceof AppError) || err.code === 'internal' || err.code === 'storage') {
        ctx.logger.error({ err: e, command: command?.name }, 'handling a message failed');
      }
      reply.text(err.userMessage);
    }
  };
}

/** Small talk, or a near-command: the reply, without the Q&A (so not logged as a policy question). */
function notAQuestion(text: string, mentioned: readonly string[], commands: CommandRouter): { kind: string; text: string } | null {
  // "谢谢 @张三" in a group is still thanks: other people's names do not make it a question.
  const talk = classifySmallTalk(mentioned.reduce((t, n) => t.split(n).join(' '), text));
  if (talk) return { kind: talk, text: smallTalkReply(talk) };
  const s = suggestCommand(text, commands.words());
  return s ? { kind: s.kind, text: suggestionMessage(s) } : null;
}

/** The names of the other people @-mentioned (extractText writes them into the text). */
function mentionedNames(msg: IncomingMessage, botOpenId: string | undefined): string[] {
  return msg.mentions.filter((m) => m.id?.open_id !== botOpenId && m.name).map((m) => m.name!);
}
