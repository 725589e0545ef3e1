import { card, hr, md, type Card } from '../bot/cards.js';
import { COMMANDS } from './commands.js';

/** The usage card, generated from the command table. */
export function buildHelpCard(opts: { qaAvailable: boolean }): Card {
  const lines = COMMANDS.filter((c) => c.name !== '帮助').map(
    (c) => `**${c.name}** — ${c.summary}\n例：${c.examples.map((e) => `\`${e}\``).join('　')}`,
  );
  return card({
    title: '换届助手 · 使用说明',
    template: 'blue',
    summary: '换届助手使用说明',
    elements: [
      md(
        qaLine(opts.qaAvailable) +
          '\n\n在群聊中请先 **@换届助手** 再输入；命令前的 `/` 可加可不加。',
      ),
      hr(),
      md(lines.join('\n\n')),
      hr(),
      md('有疑问请联系本县（区）换届办。'),
    ],
  });
}

function qaLine(qaAvailable: boolean): string {
  return qaAvailable
    ? '**政策问答**：直接输入问题，例如「选民名单要提前多少天公布？」，答案会注明出自哪份文件第几条。'
    : '**政策问答**：暂未开通。';
}
