/**
 * Is a secret strong enough to start with (issue 16)? A DASHBOARD_SECRET of two
 * characters was recovered by brute force from one forwarded digest link and
 * then signed a year-long link to a county leader's dashboard. Secrets we
 * choose ourselves (DASHBOARD_SECRET, METRICS_TOKEN) must be at least 32 bytes
 * and not obviously weak; the values the Lark console issues are held to what
 * a real Lark value always satisfies, so a placeholder cannot slip through
 * (see SECRET_RULES below for why each is what it is).
 *
 * Nothing here ever puts the value itself into a message.
 */

/** Why a value was refused. */
export type Weakness =
  | { kind: 'too_short'; bytes: number; min: number }
  | { kind: 'one_char' }
  | { kind: 'repeated'; period: number }
  | { kind: 'few_distinct'; distinct: number; min: number }
  | { kind: 'sequential' }
  | { kind: 'placeholder' };

export interface StrengthRule {
  /** Minimum length in UTF-8 bytes. */
  minBytes: number;
  /** Minimum number of distinct characters. */
  minDistinct: number;
  /**
   * How hard to look for a typed value:
   * - 'whole': the value is a placeholder as a whole — made only of placeholder
   *   words and digits (`your_app_secret_here`, `testkey`, `xxxxxx`), `<…>`,
   *   `${…}`, or starts with `test-`, `your_`, `changeme`, `password`…;
   * - 'contains': also when a long placeholder word (password, changeme,
   *   secret, example…) appears anywhere;
   * - 'strict': also when it starts with a placeholder word of 4+ letters
   *   followed by no further letter, or of 6+ letters (`testing1234…`,
   *   `huanjie-…`) — right only for a value that should be random.
   * A random value is refused by mistake with a probability of about 1e-8 for
   * Lark's 32 letters and digits ('whole', 'contains'), none for hex (no word
   * is made of a–f only) and about 5e-6 for base64 ('strict').
   */
  placeholders: 'whole' | 'contains' | 'strict';
}

/** Values we generate: 32 random bytes, `openssl rand -hex 32`. */
export const OWN_SECRET: StrengthRule = { minBytes: 32, minDistinct: 8, placeholders: 'strict' };

/**
 * Words a placeholder is made of. No entry may consist of hex letters only
 * (a–f): a random hex secret must never decompose into them.
 */
const WORDS = [
  'change', 'changeme', 'me', 'your', 'yours', 'my', 'our', 'the', 'an', 'to', 'for', 'of', 'is', 'it', 'this', 'here', 'goes', 'put', 'insert',
  'replace', 'enter', 'fill', 'set', 'new', 'value', 'string', 'text', 'random', 'long', 'strong', 'very', 'super',
  'secret', 'secrets', 'password', 'passwd', 'pass', 'pwd', 'token', 'key', 'keys', 'encrypt', 'encryption', 'verification', 'verify',
  'app', 'application', 'api', 'auth', 'sign', 'signing', 'hmac', 'id', 'bot',
  'test', 'tests', 'testing', 'example', 'sample', 'placeholder', 'default', 'dummy', 'demo', 'fake', 'mock', 'temp', 'tmp',
  'todo', 'fixme', 'foo', 'bar', 'baz', 'qux', 'hello', 'world', 'admin', 'root', 'user', 'guest', 'login', 'letmein', 'welcome',
  'qwerty', 'asdf', 'xyz', 'null', 'none', 'nil', 'undefined', 'empty', 'blank', 'nothing',
  'lark', 'feishu', 'huanjie', 'dashboard', 'metrics', 'prometheus', 'prod', 'production', 'dev', 'staging', 'local', 'localhost',
];
const WORD_SET = new Set(WORDS);
const LONGEST_WORD = Math.max(...WORDS.map((w) => w.length));

/** Long words that betray a typed value wherever they appear (6+ letters: a random value contains one by chance < 1e-6). */
const TELL_WORDS = ['changeme', 'password', 'passwd', 'secret', 'example', 'placeholder', 'sample', 'dummy', 'letmein', 'qwerty', 'default', 'yourkey', 'yourtoken', 'huanjie', 'feishu'];

/** Short words that, followed by a separator, start a typed value: `test-…`, `your_…`, `my.…`. */
const SEPARATED_PREFIXES = ['test', 'tests', 'testing', 'your', 'my', 'demo', 'fake', 'dummy', 'mock', 'todo', 'foo', 'tmp', 'temp', 'xxx', 'example', 'sample', 'change', 'changeme', 'secret', 'password'];

/** Long prefixes that start a typed value with or without a separator. */
const LONG_PREFIXES = ['changeme', 'password', 'passwd', 'secret', 'example', 'placeholder', 'sample', 'dummy', '123456', 'abc123', 'qwerty', 'letmein', 'xxxxxx', 'yourkey', 'yoursecret', 'yourtoken'];

/** Letters and digits only, lower case: `Your-Secret_Here` and `yoursecrethere` are the same placeholder. */
function folded(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Whether s splits into placeholder words, runs of x and digits, with at least one word or x-run. */
function madeOfWords(s: string): boolean {
  // ok[i]: undefined = s[0..i) does not split; false = splits, digits only; true = splits with a word.
  const ok: (undefined | boolean)[] = new Array(s.length + 1);
  ok[0] = false;
  for (let i = 0; i < s.length; i++) {
    const before = ok[i];
    if (before === undefined) continue;
    const mark = (j: number, word: boolean) => {
      const v = before || word;
      if (ok[j] === undefined || (v && !ok[j])) ok[j] = v;
    };
    let j = i;
    while (j < s.length && /[0-9]/.test(s[j]!)) j++;
    if (j > i) mark(j, false);
    j = i;
    while (j < s.length && s[j] === 'x') j++;
    if (j - i >= 3) mark(j, true);
    for (let len = 1; len <= LONGEST_WORD && i + len <= s.length; len++) {
      if (WORD_SET.has(s.slice(i, i + len))) mark(i + len, true);
    }
  }
  return ok[s.length] === true;
}

export function isPlaceholder(value: string, mode: StrengthRule['placeholders']): boolean {
  const t = value.trim();
  const f = folded(t);
  if (/^[!-/:-@[-`{-~\s]+$/.test(t)) return true; // only punctuation: ---, ***
  if (/^<.*>$/.test(t) || /^\$\{.*\}$/.test(t) || /^\{\{.*\}\}$/.test(t)) return true; // <your-secret>, ${DASHBOARD_SECRET}, {{token}}
  if (madeOfWords(f)) return true;
  const lower = t.toLowerCase();
  if (SEPARATED_PREFIXES.some((p) => lower.startsWith(p) && /^[-_.:\s]/.test(lower.slice(p.length)))) return true;
  if (LONG_PREFIXES.some((p) => f.startsWith(p))) return true;
  if (mode === 'whole') return false;
  if (TELL_WORDS.some((w) => f.includes(w))) return true;
  if (mode === 'contains') return false;
  // testing1234…, demo_…, huanjie-county-…: a word, then no more letters of it (or a word too long to be chance).
  return WORDS.some((w) => w.length >= 4 && lower.startsWith(w) && (w.length >= 6 || !/^[a-z]/.test(lower.slice(w.length))));
}

/** The shortest period p ≤ length/2 with value[i] = value[i−p] for every i (a short pattern repeated), else 0. */
function repeatPeriod(chars: string[]): number {
  const n = chars.length;
  for (let p = 1; p <= n / 2; p++) {
    let ok = true;
    for (let i = p; i < n && ok; i++) ok = chars[i] === chars[i - p];
    if (ok) return p;
  }
  return 0;
}

/** Mostly runs of neighbouring characters: abcdefgh…, 12345678…, 987654…, aaaabbbbcccc. */
function isSequential(chars: string[]): boolean {
  if (chars.length < 8) return false;
  let steps = 0;
  for (let i = 1; i < chars.length; i++) {
    const d = chars[i]!.codePointAt(0)! - chars[i - 1]!.codePointAt(0)!;
    if (d >= -1 && d <= 1) steps++;
  }
  return steps / (chars.length - 1) > 0.6;
}

/** The first reason the value is too weak, or undefined when it passes. Empty values are the caller's business. */
export function weakness(value: string, rule: StrengthRule): Weakness | undefined {
  const chars = [...value];
  const bytes = Buffer.byteLength(value, 'utf8');
  if (isPlaceholder(value, rule.placeholders)) return { kind: 'placeholder' };
  const distinct = new Set(chars).size;
  if (distinct === 1) return { kind: 'one_char' };
  const period = repeatPeriod(chars);
  if (period > 0) return { kind: 'repeated', period };
  if (isSequential(chars)) return { kind: 'sequential' };
  if (bytes < rule.minBytes) return { kind: 'too_short', bytes, min: rule.minBytes };
  if (distinct < rule.minDistinct) return { kind: 'few_distinct', distinct, min: rule.minDistinct };
  return undefined;
}

/** The reason in words, without the value. */
export function describeWeakness(w: Weakness): string {
  switch (w.kind) {
    case 'too_short':
      return `太短（${w.bytes} 字节，至少需要 ${w.min} 字节）`;
    case 'one_char':
      return '全部是同一个字符';
    case 'repeated':
      return `是一小段字符（${w.period} 个字符）的重复`;
    case 'few_distinct':
      return `只用了 ${w.distinct} 种不同的字符（至少需要 ${w.min} 种）`;
    case 'sequential':
      return '基本是连续的字符（如 abcdef、123456），容易猜到';
    case 'placeholder':
      return '是示例或占位值（如 changeme、password、secret、test…、your-…-here、xxx），谁都能猜到';
  }
}

export const GENERATE_HINT = '请运行 openssl rand -hex 32 生成一个随机值（64 个字符）填入';

interface SecretRule {
  rule: StrengthRule;
  /** How the refusal starts: a weak value of ours, or a value that cannot be Lark's. */
  lead: string;
  /** What the secret protects and what a weak one lets an attacker do. */
  why: string;
  /** How to get a good one. */
  fix: string;
}

/**
 * Each secret the service checks at start.
 *
 * - DASHBOARD_SECRET, METRICS_TOKEN: ours; 32 random bytes or nothing.
 * - LARK_ENCRYPT_KEY: the console generates 32 random characters but lets the
 *   operator type any value, and it is both the AES key of the events and the
 *   key of their signature (SHA-256 over timestamp, nonce, key and body), so a
 *   weak one lets anyone forge any user's messages and button presses. Held to
 *   16 bytes and the weakness checks: every value the console generates passes,
 *   a typed word does not.
 * - LARK_APP_SECRET, LARK_VERIFICATION_TOKEN: issued by Lark (32 random
 *   characters; the console resets them, nobody types them); a real one
 *   always passes, and a wrong App Secret fails at Lark anyway. Only placeholders and
 *   degenerate values (one character, a repeated pattern, fewer than 8
 *   distinct characters — which includes anything shorter than 8) are refused.
 * - LLM_API_KEY, EMBEDDING_API_KEY: not checked. They are the model server's to
 *   judge, and a local OpenAI-compatible server commonly takes any value
 *   (`EMPTY`).
 */
export const SECRET_RULES: Record<string, SecretRule> = {
  DASHBOARD_SECRET: {
    rule: OWN_SECRET,
    lead: '强度不够',
    why: '它为领导看板链接签名：弱密钥可以从一条转发的日报链接离线暴力破解出来，进而伪造任何领导、任何范围、任意有效期的看板链接。',
    fix: `${GENERATE_HINT} DASHBOARD_SECRET（更换后，已发出的看板链接失效，之后的日报会带上新链接）。`,
  },
  METRICS_TOKEN: {
    rule: OWN_SECRET,
    lead: '强度不够',
    why: '它是从其他机器访问 /metrics 的凭据：弱令牌容易被猜中。',
    fix: `${GENERATE_HINT} METRICS_TOKEN，并在 Prometheus 的抓取配置中使用同一个值（Authorization: Bearer …）。`,
  },
  LARK_ENCRYPT_KEY: {
    rule: { minBytes: 16, minDistinct: 8, placeholders: 'contains' },
    lead: '强度不够',
    why: '它是飞书事件的加密密钥和签名密钥：弱密钥可以被猜出，猜出后任何人都能伪造任何人的消息和卡片操作。',
    fix: '请在飞书开发者后台「事件与回调 → 加密策略」重置 Encrypt Key（平台会生成 32 位随机值），把新值填入 LARK_ENCRYPT_KEY。',
  },
  LARK_APP_SECRET: {
    rule: { minBytes: 1, minDistinct: 8, placeholders: 'whole' },
    lead: '不像真实的值',
    why: '飞书平台下发的 App Secret 是 32 位随机字符。',
    fix: '请从飞书开发者后台「凭证与基础信息」复制 App Secret 填入 LARK_APP_SECRET。',
  },
  LARK_VERIFICATION_TOKEN: {
    rule: { minBytes: 1, minDistinct: 8, placeholders: 'whole' },
    lead: '不像真实的值',
    why: '飞书平台下发的 Verification Token 是 32 位随机字符。',
    fix: '请从飞书开发者后台「事件与回调 → 加密策略」复制 Verification Token 填入 LARK_VERIFICATION_TOKEN。',
  },
};

/** Pairs that must differ: one value for two purposes means the weaker place leaks the stronger one. */
const MUST_DIFFER: [string, string][] = [
  ['METRICS_TOKEN', 'DASHBOARD_SECRET'],
  ['DASHBOARD_SECRET', 'LARK_ENCRYPT_KEY'],
  ['METRICS_TOKEN', 'LARK_ENCRYPT_KEY'],
];

/**
 * Every problem with the secrets in an environment, as { variable, message }
 * for ConfigError. Unset and blank values are skipped (each feature says
 * itself what it needs); values are compared trimmed, as the config uses them.
 */
export function secretProblems(env: Record<string, string | undefined>): { variable: string; message: string }[] {
  const value = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const out: { variable: string; message: string }[] = [];
  for (const [variable, s] of Object.entries(SECRET_RULES)) {
    const v = value(variable);
    if (v === undefined) continue;
    const w = weakness(v, s.rule);
    if (w) out.push({ variable, message: `${s.lead}：${describeWeakness(w)}。${s.why}${s.fix}` });
  }
  for (const [a, b] of MUST_DIFFER) {
    const va = value(a);
    if (va !== undefined && va === value(b) && !out.some((p) => p.variable === a)) {
      out.push({ variable: a, message: `与 ${b} 相同：一个值不要用在两处，一处泄露就两处都失守。${GENERATE_HINT} ${a}。` });
    }
  }
  return out;
}
