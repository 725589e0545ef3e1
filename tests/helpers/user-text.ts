/**
 * What a person may never read in a reply, a toast or a card (issue 17 item 7): text without a
 * word of Chinese, a library's English ("Invalid input: expected string, received number"), a
 * template's hole (undefined, NaN, [object Object]), an exception's name or a stack trace.
 * Independent of src/: the tests judge the service's text with their own rule.
 */
const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
const ENGLISH = [
  /Invalid/,
  /expected/i,
  /Required/,
  /received/,
  /undefined/,
  /NaN/,
  /Error/,
  /\[object \w+\]/,
  /\bat [\w.<>$]+ \(/,
  /\.(?:ts|js|mjs):\d+:\d+/,
  /Cannot read propert/,
  /is not (?:a function|iterable|defined)/,
  /Unexpected token/,
  /Too (?:big|small)/,
];

/** Why `text` must not reach a person, or null when it may. Strings the person sent themselves (echoed back) are not held against it. */
export function badUserText(text: string, sent: Iterable<string> = []): string | null {
  if (!CJK.test(text)) return `no Chinese: ${JSON.stringify(text.slice(0, 120))}`;
  const theirs = [...sent].filter((x) => x.length >= 2).sort((a, b) => b.length - a.length);
  // A quote 「…」 of part of what they sent ("收到「NaN%」" for 党员比例=NaN%) is theirs too.
  let rest = text.replace(/「([^「」]*)」/g, (q, inner: string) => (inner && theirs.some((s) => s.includes(inner)) ? '「」' : q));
  for (const s of theirs) rest = rest.split(s).join(' ');
  for (const re of ENGLISH) {
    const m = re.exec(rest);
    if (m) return `English/library text "${m[0]}": ${JSON.stringify(text.slice(Math.max(0, m.index - 60), m.index + 80))}`;
  }
  return null;
}

/** An error or warning toast must say what to do next (send something else, choose again, try again, ask someone). */
const WHAT_TO_DO = /请|发送|重新|再试|可写|可填|应为|应是|只能|例如|改为|联系|选择|无需/;

export function toastWithoutAdvice(t: { type?: string; content?: string }): string | null {
  if (t.type !== 'error' && t.type !== 'warning') return null;
  return WHAT_TO_DO.test(t.content ?? '') ? null : `toast says what went wrong but not what to do: ${JSON.stringify(t.content)}`;
}

/** Every string in a JSON value (what a card shows is in its strings). */
export function stringsOf(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) stringsOf(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) stringsOf(x, out);
  return out;
}

/**
 * Wrong-typed values for a field: numbers for strings, strings for numbers, arrays, objects,
 * null, booleans, huge and empty values, look-alike junk and unicode junk. `undefined` = field missing.
 */
export function wrongValues(valid: unknown): unknown[] {
  const vs: unknown[] = [
    undefined,
    null,
    0,
    -1,
    1.5,
    2 ** 53 + 1,
    1e308,
    true,
    '',
    '   ',
    'NaN',
    'undefined',
    'null',
    '[object Object]',
    '-1',
    '1e999',
    '9'.repeat(40),
    '𠀀😀\u0000\u200b\u202e',
    '\ud800',
    'x'.repeat(5000),
    '城'.repeat(2000),
    [],
    ['1'],
    [1, 2],
    {},
    { a: 1 },
  ];
  if (typeof valid === 'string') vs.push(Number(valid) || 12, [valid], { value: valid }, `${valid} `, valid.toUpperCase() + '😀');
  if (typeof valid === 'number') vs.push(String(valid), `${valid}天`, -valid, valid + 0.5, [valid]);
  return vs;
}
