import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { IsoDate } from '../workflow/types.js';
import type { Actor } from './actor.js';
import type { ParsedCommand } from './commands.js';
import type { MessageSink } from '../bot/outbox.js';
import type { Reply } from './reply.js';

export interface CommandContext {
  command: ParsedCommand;
  actor: Actor;
  reply: Reply;
  clock: Clock;
  logger: Logger;
  /** The Lark message that carried the command: the key that makes a redelivery idempotent. */
  sourceId: string;
  /**
   * When the sender sent it (message-time.ts): what 今天 means in it and how it is ordered
   * against other check-ins. Absent (menu, console): now.
   */
  sentAt?: number;
  /** The event's messages (to other people or chats), written with the event's completion. */
  outbox: MessageSink;
  /**
   * Where the reply is read: 'p2p' (the sender alone), 'group' (everyone in the
   * chat), absent when it goes to the sender directly (menu, console).
   */
  chatType?: string;
}

/** Whether only the sender reads the reply: what is private to them (talk notes) may be shown. */
export function inPrivateChat(c: Pick<CommandContext, 'chatType'>): boolean {
  return c.chatType === undefined || c.chatType === 'p2p';
}

export type CommandHandler = (ctx: CommandContext) => Promise<void> | void;

/**
 * The names the command arguments refer to (the roster's villages and
 * townships, the talk subjects) and the campaign's today: what the suggester
 * (command-suggest.ts) needs to split "完成城西村承诺谈话" the way the grammar
 * reads it. Read only when a message looks like a command.
 */
export interface CommandWords {
  villages(): readonly string[];
  townships(): readonly string[];
  talkSubjects(): readonly string[];
  today(): IsoDate;
}

/** Before a roster is registered: no names, today in UTC (only used to validate dates). */
const NO_WORDS: CommandWords = {
  villages: () => [],
  townships: () => [],
  talkSubjects: () => [],
  today: () => new Date().toISOString().slice(0, 10) as IsoDate,
};

/** Maps command names (from the COMMANDS table) to their handlers. */
export class CommandRouter {
  private readonly handlers = new Map<string, CommandHandler>();
  private commandWords: CommandWords = NO_WORDS;

  on(name: string, handler: CommandHandler): this {
    this.handlers.set(name, handler);
    return this;
  }

  /** Sets where the argument names come from (the workflow's roster). */
  useWords(words: CommandWords): this {
    this.commandWords = words;
    return this;
  }

  words(): CommandWords {
    return this.commandWords;
  }

  async route(ctx: CommandContext): Promise<void> {
    const h = this.handlers.get(ctx.command.name);
    if (!h) {
      // Visible, honest: the command exists in the product but is not built yet.
      ctx.reply.text(`「${ctx.command.name}」功能正在建设中，暂不可用。发送「帮助」查看目前可用的功能。`);
      return;
    }
    await h(ctx);
  }
}
