import { z } from 'zod';

/**
 * Validation failures as a person reads them (issue 17 item 7): one Chinese sentence that names
 * the field in the user's words (村(社区), 阶段, 备注 — never `village`, `formValue.stage`) and says
 * what to send instead. Built on zod's own mechanism — a per-parse error map
 * (`safeParse(data, { error })`, see zod.dev/error-customization): messages written on a schema
 * still win; everything zod would have said in English ("Invalid input: expected string,
 * received number") is said here instead. zod's zh-CN locale alone is not enough: it names
 * the types and not the field ("无效输入：期望 string，实际接收 undefined").
 *
 * No imports from the rest of src/: errors.ts uses it to turn a ZodError that escaped a handler
 * into a UserError.
 */

/** A field as the user knows it: its name on the form or in the command, and what to do when it is wrong. */
export interface FieldLabel {
  label: string;
  /** What to send instead ("请在表单中重新选择村(社区)"); default the parse's hint. */
  hint?: string;
}

export type FieldLabels = Readonly<Record<string, FieldLabel>>;

export interface MessageOptions {
  fields?: FieldLabels;
  /** What to do when the field has no hint of its own (a form: 请重新打开表单填写后提交). */
  hint?: string;
}

/** Said when nothing more specific is known. */
export const DEFAULT_HINT = '请检查后重新发送；发送「帮助」可查看用法';

const CJK = /[\u3400-\u9fff]/;
/** A message already says what to do. */
const ADVICE = /请|发送|重新|再试|例如|可写|可填|改为|联系|无需/;
/** zod's (or any library's) English, which must never be shown. */
const LIBRARY_ENGLISH = /Invalid|expected|received|Required|Too (?:big|small)|undefined|NaN|Error|\[object /;

/** A message written for people: Chinese, with none of a library's English. */
export function isUserWorded(message: string): boolean {
  return CJK.test(message) && !LIBRARY_ENGLISH.test(message);
}

/** Appends the hint unless the message already says what to do. */
export function withHint(message: string, hint: string): string {
  const m = message.trim().replace(/[。.；;，,]+$/, '');
  return ADVICE.test(m) ? `${m}。` : `${m}，${hint.replace(/[。.]+$/, '')}。`;
}

/** The raw issue zod hands an error map, or a finished issue (no `input` then). */
type AnyIssue = {
  code?: string;
  path?: readonly PropertyKey[];
  input?: unknown;
  expected?: string;
  origin?: string;
  maximum?: unknown;
  minimum?: unknown;
  inclusive?: boolean;
  values?: readonly unknown[];
  message?: string;
};

function fieldOf(issue: AnyIssue, fields: FieldLabels): FieldLabel | undefined {
  const path = issue.path ?? [];
  for (let i = path.length - 1; i >= 0; i--) {
    const k = path[i];
    if (typeof k === 'string' && Object.hasOwn(fields, k)) return fields[k];
  }
  return undefined;
}

const EXPECTED: Record<string, string> = { number: '应为数字', int: '应为整数', boolean: '应为 是 或 否', array: '应为多项内容', date: '应为日期' };

/** What is wrong, after the field's name: 过长（最多 500 字）, 不能为空, 只能是：一般、较重、严重. */
function problem(issue: AnyIssue): string {
  const n = (v: unknown) => (typeof v === 'bigint' || typeof v === 'number' ? String(v) : '');
  switch (issue.code) {
    case 'invalid_type':
      if ('input' in issue && issue.input === undefined) return '没有填写';
      return EXPECTED[issue.expected ?? ''] ?? '格式不对';
    case 'too_big':
      if (issue.origin === 'string') return `过长（最多 ${n(issue.maximum)} 字）`;
      if (issue.origin === 'array' || issue.origin === 'set') return `过多（最多 ${n(issue.maximum)} 项）`;
      return n(issue.maximum) ? `不能大于 ${n(issue.maximum)}` : '过大';
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? '不能为空' : `过短（至少 ${n(issue.minimum)} 字）`;
      if (issue.origin === 'array' || issue.origin === 'set') return Number(issue.minimum) <= 1 ? '不能为空' : `至少要 ${n(issue.minimum)} 项`;
      return n(issue.minimum) ? `${issue.inclusive === false ? '应大于' : '不能小于'} ${n(issue.minimum)}` : '过小';
    case 'invalid_value': {
      const vs = (issue.values ?? []).filter((v) => typeof v === 'string' || typeof v === 'number').map(String);
      return vs.length > 0 && vs.length <= 8 && vs.every((v) => v.length <= 12) ? `只能是：${vs.join('、')}` : '取值不对';
    }
    case 'not_multiple_of':
      return '应为整数';
    default:
      return '格式不对';
  }
}

/** One issue as a sentence: 「备注」过长（最多 500 字），请精简后再提交。 */
export function issueMessage(issue: AnyIssue, opts: MessageOptions = {}): string {
  const field = fieldOf(issue, opts.fields ?? {});
  const name = field ? `「${field.label}」` : '提交的内容';
  return withHint(`${name}${problem(issue)}`, field?.hint ?? opts.hint ?? DEFAULT_HINT);
}

/** The per-parse error map: zod calls it for every issue whose schema has no message of its own. */
export function chineseErrorMap(opts: MessageOptions = {}): (issue: AnyIssue) => string {
  return (issue) => issueMessage(issue, opts);
}

export function isZodError(e: unknown): e is z.core.$ZodError {
  return e instanceof z.core.$ZodError || (e instanceof Error && e.name === 'ZodError' && Array.isArray((e as { issues?: unknown }).issues));
}

/** The message for a failed parse: the first issue's own message when it is worded for people, else one made from the issue. */
export function validationMessage(error: { issues: readonly AnyIssue[] }, opts: MessageOptions = {}): string {
  const issue = error.issues[0];
  if (!issue) return withHint('填写的内容有误', opts.hint ?? DEFAULT_HINT);
  const own = issue.message ?? '';
  if (isUserWorded(own)) {
    const field = fieldOf(issue, opts.fields ?? {});
    return withHint(own, field?.hint ?? opts.hint ?? DEFAULT_HINT);
  }
  return issueMessage(issue, opts);
}

export type Parsed<T> = { ok: true; data: T } | { ok: false; message: string };

/** safeParse with the Chinese error map: the data, or the one sentence to answer with. */
export function parseInput<S extends z.ZodType>(schema: S, data: unknown, opts: MessageOptions = {}): Parsed<z.output<S>> {
  const r = schema.safeParse(data, { error: chineseErrorMap(opts) });
  return r.success ? { ok: true, data: r.data } : { ok: false, message: validationMessage(r.error, opts) };
}
