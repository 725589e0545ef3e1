import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { renderMessageText } from '../bot/card-text.js';
import { localChatId, localTextMessage } from '../bot/local-event.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { UserError } from '../errors.js';
import { Runtime } from '../runtime.js';
import { createRosterRepo, type RosterRepo } from '../store/roster-repo.js';
import { matchName, suggestionText } from '../workflow/names.js';
import { boundOpenId } from '../workflow/lookup.js';

export function registerChatCommand(program: Command): void {
  program
    .command('chat')
    .description('在终端里与机器人对话（与飞书消息走同一处理流程；从标准输入逐行读取，可用于脚本）')
    .option('--as <who>', '以谁的身份发言：姓名或 open_id', '')
    .action(async (opts: { as: string }) => {
      const base = loadConfig(process.env);
      // Never talk to Lark from the terminal, whatever credentials are set.
      const config = { ...base, offline: true, lark: { ...base.lark, eventMode: 'webhook' as const } };
      const logger = createLogger({ ...config, logLevel: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
      // The terminal chat never runs the scheduler: that is the service's job.
      const rt = new Runtime({ config, logger, noReceiver: true, noServices: true });
      let who: { openId: string; label: string };
      try {
        who = resolveIdentity(opts.as, createRosterRepo(rt.db));
      } catch (e) {
        await rt.stop({ flushMs: 0 });
        throw e;
      }
      await rt.start();
      const session = `cli:${who.openId}`;
      const tty = process.stdin.isTTY;
      if (tty) process.stdout.write(`换届助手 · 终端对话（身份：${who.label}）。输入「帮助」查看用法，Ctrl+D 退出。\n`);
      const rl = createInterface({ input: process.stdin, terminal: false });
      let lastId = rt.repos.outbox.maxId();
      const prompt = () => tty && process.stdout.write('> ');
      prompt();
      for await (const line of rl) {
        const text = line.trim();
        if (!text) {
          prompt();
          continue;
        }
        await rt.intake.receive(localTextMessage({ openId: who.openId, session, text, token: config.lark.verificationToken }));
        await rt.intake.idle();
        for (const row of rt.repos.outbox.listSince(lastId)) {
          lastId = row.id;
          if (row.receive_id !== localChatId(session)) continue;
          process.stdout.write(renderMessageText(row.msg_type, row.content) + '\n');
        }
        prompt();
      }
      await rt.stop({ flushMs: 0 });
    });
}

/**
 * `--as` takes an open_id or a roster name. A name must be one person of the
 * roster (refused when unknown or shared by several); before any roster is
 * imported, a name gives a stable local identity so the bot can be tried out.
 */
export function resolveIdentity(as: string, roster: Pick<RosterRepo, 'people'>): { openId: string; label: string } {
  const v = as.trim();
  if (!v) return { openId: 'ou_local_console', label: '本地用户' };
  const people = roster.people();
  if (/^ou_[A-Za-z0-9_]+$/.test(v)) {
    const p = people.find((x) => x.openId === v);
    return { openId: v, label: p ? `${p.name}（${p.role}）` : v };
  }
  if (!people.length) {
    return { openId: `ou_local_${createHash('sha256').update(v).digest('hex').slice(0, 16)}`, label: `${v}（花名册为空，本地身份）` };
  }
  const same = people.filter((x) => x.name === v.normalize('NFKC'));
  if (same.length === 1) return { openId: boundOpenId(same[0]!), label: `${same[0]!.name}（${same[0]!.role}）` };
  if (same.length > 1) {
    throw new UserError(`花名册中有 ${same.length} 人叫「${v}」：${same.map((x) => `${x.openId ?? '未绑定'}（${x.role}）`).join('、')}。请用 --as <open_id> 指定。`);
  }
  const r = matchName(v, people.map((x) => ({ value: x, label: x.name, names: [x.name] })));
  const hint = r.kind === 'none' ? suggestionText(r.suggestions) : r.kind === 'ambiguous' ? suggestionText(r.options) : suggestionText([r.value.name]);
  throw new UserError(`花名册中没有「${v}」。${hint}`.trim());
}
