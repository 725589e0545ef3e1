import type { Actor } from './actor.js';
import type { Reply } from './reply.js';

/** Where everything that is not a command goes: the policy Q&A. */
export type QaEntry = (question: string, actor: Actor, reply: Reply) => Promise<void>;

/** Until the knowledge base is connected, say so plainly instead of guessing. */
export const qaNotAvailable: QaEntry = async (_q, _a, reply) => {
  reply.text('政策问答功能暂未开通，暂时无法回答问题。发送「帮助」查看目前可用的功能。');
};
