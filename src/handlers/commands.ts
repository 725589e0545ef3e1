import { toSimplified } from '../knowledge/normalize.js';
import { stripInvisible } from '../workflow/names.js';

/**
 * The chat commands of SPEC §2.3, one table: the parser, the router and the
 * help card all read it, so they cannot disagree.
 */
export interface CommandSpec {
  name: string;
  aliases: string[];
  summary: string;
  examples: string[];
  /** Who may use it; the handler still checks scope. */
  audience: 'all' | 'leader';
}

export const COMMANDS: readonly CommandSpec[] = [
  { name: '帮助', aliases: ['help', '菜单', '用法', '?'], summary: '查看用法', examples: ['帮助'], audience: 'all' },
  {
    name: '进度',
    aliases: [],
    summary: '记录或查询村(社区)某阶段的进度',
    examples: ['进度 城西村', '进度 城西村 选举 进行中 参选率94%'],
    audience: 'all',
  },
  { name: '完成', aliases: [], summary: '记录某阶段已完成', examples: ['完成 城西村 资格审查'], audience: 'all' },
  { name: '我的', aliases: ['我的任务'], summary: '我负责的村、待办节点和谈话', examples: ['我的'], audience: 'all' },
  { name: '谈话', aliases: [], summary: '记录一次谈心谈话', examples: ['谈话 张三 完成 11月20日 已签承诺书'], audience: 'all' },
  { name: '风险', aliases: ['问题'], summary: '登记风险问题（问题清单）', examples: ['风险 城西村 信访 有群众反映拉票'], audience: 'all' },
  {
    name: '结构',
    aliases: [],
    summary: '记录新一届班子结构',
    examples: ['结构 城西村 一肩挑=是 大学生=1 35岁以下=1 女性=1 党员比例=60%'],
    audience: 'all',
  },
  { name: '日报', aliases: [], summary: '领导：立即查看今日进度日报', examples: ['日报'], audience: 'leader' },
  { name: '逾期', aliases: [], summary: '领导：查看逾期清单', examples: ['逾期', '逾期 沁河镇'], audience: 'leader' },
  { name: '导出', aliases: [], summary: '领导：导出进度表 (Excel)', examples: ['导出'], audience: 'leader' },
  { name: '撤销', aliases: [], summary: '撤销我最近一次登记', examples: ['撤销'], audience: 'all' },
];

const BY_WORD = new Map<string, CommandSpec>();
for (const c of COMMANDS) for (const w of [c.name, ...c.aliases]) BY_WORD.set(w.toLowerCase(), c);

export interface ParsedCommand {
  name: string;
  /** Arguments split on spaces and Chinese separators. */
  args: string[];
  /** Everything after the command word, normalised but not split. */
  rest: string;
}

/**
 * Normalises chat input: full-width forms to half-width (NFKC), ideographic and
 * repeated spaces to one space, invisible format characters (the same set as in
 * names: workflow/names.ts) and control characters dropped.
 */
export function normalizeInput(text: string): string {
  return stripInvisible(text.normalize('NFKC'))
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ')
    .replace(/[ \t\u3000]+/g, ' ')
    .trim();
}

/** Returns the command in `text`, or null when the text is not a command (then it is a question). */
export function parseCommand(text: string): ParsedCommand | null {
  const t = normalizeInput(text).replace(/^[/／]\s*/, '');
  if (!t) return null;
  const m = /^(\S+?)(?:[\s,，:：]+|$)([\s\S]*)$/.exec(t);
  if (!m) return null;
  const word = m[1]!.toLowerCase();
  // Traditional command words (進度, 幫助) are the same commands.
  const spec = BY_WORD.get(word) ?? BY_WORD.get(toSimplified(word, true));
  if (!spec) return null;
  const rest = (m[2] ?? '').trim();
  return { name: spec.name, args: rest ? rest.split(/[\s,，、;；]+/).filter(Boolean) : [], rest };
}
