import { z } from 'zod';
import { UserError } from '../../errors.js';
import { readDate } from '../../workflow/dates.js';
import { canonicalName, matchName, suggestionText } from '../../workflow/names.js';
import { severityOf, type Severity } from '../../workflow/risks.js';
import { STRUCTURE_FIELDS, type StructureInput } from '../../workflow/structure.js';
import type { IsoDate, StageStatus } from '../../workflow/types.js';

/**
 * The check-in grammar (SPEC §2.3): command arguments → a zod-validated
 * structure. Names stay text here (villages, stages, people are resolved
 * against the roster by the handler); words with a fixed meaning (statuses,
 * dates, 承诺书, severities, structure fields) are decided here. Forgiving in
 * form (order of the optional parts, synonyms), strict in content: anything
 * that cannot be read is refused with the reason.
 */

export const MAX_ARGS_CHARS = 600;

const STATUS_WORDS: Record<string, StageStatus> = {
  未开始: '未开始', 未启动: '未开始', 没开始: '未开始', 尚未开始: '未开始',
  进行中: '进行中', 正在进行: '进行中', 开展中: '进行中', 在办: '进行中', 已启动: '进行中', 启动: '进行中', 开始: '进行中', 已开始: '进行中', 推进中: '进行中',
  已完成: '已完成', 完成: '已完成', 完毕: '已完成', 已完毕: '已完成', 办结: '已完成', 已办结: '已完成', 结束: '已完成', 已结束: '已完成', done: '已完成',
  受阻: '受阻', 阻塞: '受阻', 卡住: '受阻', 有困难: '受阻', 暂停: '受阻', 延期: '受阻', 推迟: '受阻',
};

export function statusOf(word: string): StageStatus | undefined {
  return STATUS_WORDS[canonicalName(word)];
}

const name = (what: string) => z.string().min(1, `缺少${what}`).max(40, `${what}过长`);
const note = z.string().max(500, '备注过长（最多 500 字）').optional();
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export const stageCommandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('overview') }),
  z.object({ kind: z.literal('query'), target: name('村(社区)或乡镇') }),
  z.object({ kind: z.literal('record'), village: name('村(社区)'), stage: name('阶段'), status: z.enum(['未开始', '进行中', '已完成', '受阻']), date: isoDate.optional(), note }),
]);
export type StageCommand = z.infer<typeof stageCommandSchema>;

function checkLength(args: readonly string[]): void {
  if (args.join(' ').length > MAX_ARGS_CHARS) throw new UserError(`内容过长（最多 ${MAX_ARGS_CHARS} 字），请精简备注后再发。`);
}

/** Takes the first token that is a date; refuses one that looks like a date but is not (2月30日) or is too old (readDate). */
function takeDate(tokens: string[], today: IsoDate): IsoDate | undefined {
  for (let i = 0; i < tokens.length; i++) {
    const d = readDate(tokens[i]!, today);
    if (d?.kind === 'refused') throw new UserError(d.message);
    if (d) {
      tokens.splice(i, 1);
      return d.date;
    }
  }
  return undefined;
}

const STATUS_HINT = '状态可写：未开始、进行中、已完成、受阻。';

/** 进度 … / 完成 … */
export function parseStageCommand(command: '进度' | '完成', args: readonly string[], today: IsoDate): StageCommand {
  checkLength(args);
  if (command === '进度' && args.length === 0) return { kind: 'overview' };
  if (command === '进度' && args.length === 1) return stageCommandSchema.parse({ kind: 'query', target: args[0] });
  if (args.length < 2) {
    throw new UserError(command === '完成' ? '用法：完成 村名 阶段 [日期] [备注]，例如「完成 城西村 资格审查」。' : `用法：进度 村名 阶段 状态 [备注]，例如「进度 城西村 选举 进行中 参选率94%」。`);
  }
  const [village, stage, ...rest] = args as [string, string, ...string[]];
  let status: StageStatus | undefined = command === '完成' ? '已完成' : undefined;
  const tokens = [...rest];
  if (command === '进度') {
    const i = tokens.findIndex((t) => statusOf(t));
    if (i < 0) throw new UserError(`请写明「${stage}」的状态，例如「进度 ${village} ${stage} 进行中」。${STATUS_HINT}`);
    status = statusOf(tokens[i]!)!;
    tokens.splice(i, 1);
  }
  const date = takeDate(tokens, today);
  const r = stageCommandSchema.safeParse({ kind: 'record', village, stage, status, date, note: tokens.join(' ') || undefined });
  if (!r.success) throw new UserError(r.error.issues[0]!.message);
  return r.data;
}

// ---------------------------------------------------------------- 谈话

const TALK_DONE = new Set(['完成', '已完成', '已谈', '谈了', '已谈话', '谈完']);
const TALK_UNDONE = new Set(['未谈', '待谈', '没谈', '改为待谈']);
const SIGNED = new Set(['已签承诺书', '签了承诺书', '已签订承诺书', '签订承诺书', '承诺书已签', '已签', '签承诺书', '已签纪律承诺书']);
const UNSIGNED = new Set(['未签承诺书', '没签承诺书', '拒签承诺书', '承诺书未签', '未签', '拒签', '未签纪律承诺书']);

export const talkCommandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('list') }),
  z.object({
    kind: z.literal('record'),
    subject: name('谈话对象'),
    category: z.string().max(30).optional(),
    status: z.enum(['已谈', '待谈']),
    date: isoDate.optional(),
    signed: z.boolean().optional(),
    note,
  }),
]);
export type TalkCommand = z.infer<typeof talkCommandSchema>;

/** 谈话 对象 [类别] [完成|未谈] [日期] [已签承诺书|未签承诺书] [备注]; `isCategory` tells a category word. */
export function parseTalkCommand(args: readonly string[], today: IsoDate, isCategory: (w: string) => boolean): TalkCommand {
  checkLength(args);
  if (!args.length) return { kind: 'list' };
  const [subject, ...rest] = args as [string, ...string[]];
  const tokens = [...rest];
  let status: '已谈' | '待谈' | undefined;
  let signed: boolean | undefined;
  let category: string | undefined;
  const left: string[] = [];
  const date = takeDate(tokens, today);
  for (const t of tokens) {
    const c = canonicalName(t);
    if (!status && TALK_DONE.has(c)) status = '已谈';
    else if (!status && TALK_UNDONE.has(c)) status = '待谈';
    else if (signed === undefined && SIGNED.has(c)) signed = true;
    else if (signed === undefined && UNSIGNED.has(c)) signed = false;
    else if (!category && !left.length && isCategory(t)) category = t;
    else left.push(t);
  }
  const r = talkCommandSchema.safeParse({ kind: 'record', subject, category, status: status ?? '已谈', date, signed, note: left.join(' ') || undefined });
  if (!r.success) throw new UserError(r.error.issues[0]!.message);
  return r.data;
}

// ---------------------------------------------------------------- 风险

const FOLLOW = new Set(['跟进', '进展', '核查', '跟踪', '续报']);
const CLOSE = new Set(['销号', '关闭', '办结', '结案', '已结', '化解']);

export const riskCommandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('list') }),
  z.object({ kind: z.literal('village'), village: name('村(社区)') }),
  z.object({ kind: z.literal('followup'), id: z.number().int().positive(), note: z.string().max(1000, '内容过长') }),
  z.object({ kind: z.literal('close'), id: z.number().int().positive(), note: z.string().max(1000, '内容过长') }),
  z.object({
    kind: z.literal('open'),
    village: name('村(社区)'),
    category: z.string().max(30).optional(),
    severity: z.enum(['一般', '较重', '严重']).optional(),
    mustCheck: z.boolean(),
    description: z.string().min(1, '请写明问题内容').max(1000, '问题描述过长（最多 1000 字）'),
  }),
]);
export type RiskCommand = z.infer<typeof riskCommandSchema>;

function riskId(t: string | undefined): number | undefined {
  const m = /^[#＃]?[Rr]?(\d{1,9})号?$/.exec(t ?? '');
  return m ? Number(m[1]) : undefined;
}

/** 风险 [村 [类别] [一般|较重|严重] [必查] 描述] | 风险 跟进 编号 情况 | 风险 销号 编号 [说明] */
export function parseRiskCommand(args: readonly string[], isCategory: (w: string) => boolean): RiskCommand {
  checkLength(args);
  if (!args.length) return { kind: 'list' };
  const [first, ...rest] = args as [string, ...string[]];
  const verb = canonicalName(first);
  if (FOLLOW.has(verb) || CLOSE.has(verb)) {
    const id = riskId(rest[0]);
    if (id === undefined) throw new UserError(`请写明问题编号，例如「风险 ${first} 12 …」（编号见登记时的回复或「风险 村名」）。`);
    const kind = FOLLOW.has(verb) ? 'followup' : 'close';
    const r = riskCommandSchema.safeParse({ kind, id, note: rest.slice(1).join(' ') });
    if (!r.success) throw new UserError(r.error.issues[0]!.message);
    return r.data;
  }
  if (!rest.length) return riskCommandSchema.parse({ kind: 'village', village: first });
  let severity: Severity | undefined;
  let mustCheck = false;
  let category: string | undefined;
  const desc: string[] = [];
  rest.forEach((t, i) => {
    if (!severity && severityOf(t)) severity = severityOf(t);
    else if (!mustCheck && canonicalName(t) === '必查') mustCheck = true;
    else if (i === 0 && isCategory(t)) category = t;
    else desc.push(t);
  });
  const r = riskCommandSchema.safeParse({ kind: 'open', village: first, category, severity, mustCheck, description: desc.join(' ') });
  if (!r.success) throw new UserError(`${r.error.issues[0]!.message}，例如「风险 ${first} 信访 有群众反映拉票」。`);
  return r.data;
}

// ---------------------------------------------------------------- 结构

export const structureCommandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('show'), village: name('村(社区)') }),
  z.object({
    kind: z.literal('record'),
    village: name('村(社区)'),
    input: z
      .object({
        oneShoulder: z.boolean().optional(),
        graduates: z.number().int().min(0).max(20).optional(),
        under35: z.number().int().min(0).max(20).optional(),
        women: z.number().int().min(0).max(20).optional(),
        partyRatio: z.number().min(0).max(1).optional(),
      })
      .refine((x) => Object.keys(x).length > 0, '至少登记一项'),
  }),
]);
export type StructureCommand = z.infer<typeof structureCommandSchema>;

const YES = new Set(['是', '有', '实现', '已实现', 'y', 'yes', 'true', '1', '√']);
const NO = new Set(['否', '无', '没有', '未实现', 'n', 'no', 'false', '0', '×']);

/** 结构 村 一肩挑=是 大学生=1 35岁以下=1 女性=1 党员比例=60% */
export function parseStructureCommand(args: readonly string[]): StructureCommand {
  checkLength(args);
  if (!args.length) throw new UserError('用法：结构 村名 一肩挑=是 大学生=1 35岁以下=1 女性=1 党员比例=60%');
  const [village, ...pairs] = args as [string, ...string[]];
  if (!pairs.length) return structureCommandSchema.parse({ kind: 'show', village });
  const input: StructureInput = {};
  for (const p of pairs) {
    const m = /^([^=:：]+)[=:：](.+)$/.exec(p);
    if (!m) throw new UserError(`「${p}」应写成 项目=值，例如「女性=1」。`);
    const key = m[1]!.trim();
    const raw = m[2]!.trim();
    const r = matchName(key, STRUCTURE_FIELDS.map((f) => ({ value: f, label: f.name, names: [f.name, ...f.aliases] })));
    if (r.kind !== 'found') {
      throw new UserError(`没有「${key}」这一项。${r.kind === 'none' ? suggestionText(r.suggestions) : ''}可登记：${STRUCTURE_FIELDS.map((f) => f.name).join('、')}。`);
    }
    const f = r.value;
    if (input[f.key] !== undefined) throw new UserError(`「${f.name}」写了两次。`);
    const v = canonicalName(raw);
    if (f.kind === 'bool') {
      if (YES.has(v)) input.oneShoulder = true;
      else if (NO.has(v)) input.oneShoulder = false;
      else throw new UserError(`「${f.name}」应为 是 或 否（收到「${raw}」）。`);
    } else if (f.kind === 'count') {
      const n = /^(\d{1,2})(名|人|个)?$/.exec(raw);
      if (!n || Number(n[1]) > 20) throw new UserError(`「${f.name}」应为 0–20 的人数（收到「${raw}」）。`);
      input[f.key as 'graduates' | 'under35' | 'women'] = Number(n[1]);
    } else {
      input.partyRatio = parseRatio(raw, f.name);
    }
  }
  const r = structureCommandSchema.safeParse({ kind: 'record', village, input });
  if (!r.success) throw new UserError(r.error.issues[0]!.message);
  return r.data;
}

function parseRatio(raw: string, label: string): number {
  const t = raw.replace(/\s/g, '');
  let v: number | undefined;
  let m = /^(\d{1,3}(?:\.\d+)?)%$/.exec(t);
  if (m) v = Number(m[1]) / 100;
  else if ((m = /^(\d{1,2})\/(\d{1,2})$/.exec(t)) && Number(m[2]) > 0) v = Number(m[1]) / Number(m[2]);
  else if ((m = /^(0?\.\d+|1(?:\.0+)?|0)$/.exec(t))) v = Number(m[1]);
  else if ((m = /^(\d{1,3})$/.exec(t))) v = Number(m[1]) / 100;
  if (v === undefined || !(v >= 0 && v <= 1)) throw new UserError(`「${label}」应为 0–100% 的比例，例如 60% 或 3/5（收到「${raw}」）。`);
  return Math.round(v * 10000) / 10000;
}
