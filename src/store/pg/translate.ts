/**
 * Turns the repositories' SQLite SQL into PostgreSQL (issue 7). The statements
 * are written once, in the dialect both share; this covers what differs
 * mechanically, and repositories branch on dialectOf(db) for the rest (FTS,
 * upserts without a conflict target). Done once per statement, at prepare.
 *
 * - parameters: `?`, `@name`, `:name`, `$name` become `$1…$n` (named ones keep one number each)
 * - `INSERT OR IGNORE` becomes `INSERT … ON CONFLICT DO NOTHING`
 * - `IFNULL` → `COALESCE`, `instr` → `strpos`, `group_concat(x, s)` → `string_agg((x)::text, s)`,
 *   `json_each(p)` → `json_array_elements_text(p::json)`, two-argument `min`/`max` → `LEAST`/`GREATEST`
 * - camelCase aliases are quoted (PostgreSQL folds unquoted names to lower case)
 * - ORDER BY terms sort NULLs as SQLite does (`NULLS FIRST` ascending, `NULLS LAST` descending)
 * - SQLite's planner hints go: `CROSS JOIN t ON …` (fixes SQLite's join order; PostgreSQL only
 *   accepts CROSS JOIN without ON) becomes `JOIN t ON …`, and a unary `+` before a column
 *   (keeps SQLite off an index; a no-op, but PostgreSQL has no unary + for text) is dropped
 */
export interface TranslatedSql {
  text: string;
  /** For each $k, where its value comes from: a positional index or a parameter name. */
  params: (number | string)[];
  /** The INSERT's table, when the statement is one (for lastInsertRowid). */
  insertInto?: string;
  returns: boolean;
}

/** Splits SQL into code and non-code (strings, quoted names, comments) so rewrites touch only code. */
function segments(sql: string): { code: boolean; text: string }[] {
  const out: { code: boolean; text: string }[] = [];
  let i = 0;
  let start = 0;
  const push = (code: boolean, end: number) => {
    if (end > start) out.push({ code, text: sql.slice(start, end) });
    start = end;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      push(true, i);
      let j = i + 1;
      for (; j < sql.length; j++) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j++;
          else break;
        }
      }
      i = j + 1;
      push(false, Math.min(i, sql.length));
    } else if (c === '-' && sql[i + 1] === '-') {
      push(true, i);
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl;
      push(false, i);
    } else i++;
  }
  push(true, sql.length);
  return out;
}

/** Index of the parenthesis closing the one opened at `open` (which must be '('). */
function closing(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Top-level commas of the argument list between open and close. */
function topLevelCommas(s: string, open: number, close: number): number[] {
  const at: number[] = [];
  let depth = 0;
  for (let i = open + 1; i < close; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === ',' && depth === 0) at.push(i);
  }
  return at;
}

/** Rewrites the calls of one function by name; the replacement gets the arguments already rewritten (nested calls). */
function rewriteCalls(s: string, name: string, fn: (args: string[]) => string | null): string {
  const re = new RegExp(`\\b${name}\\s*\\(`, 'gi');
  let out = '';
  let from = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (m.index < from) continue;
    const open = m.index + m[0].length - 1;
    const close = closing(s, open);
    if (close < 0) break;
    const commas = topLevelCommas(s, open, close);
    const bounds = [open, ...commas, close];
    const args = bounds.slice(0, -1).map((b, k) => s.slice(b + 1, bounds[k + 1]).trim());
    const replaced = fn(args.map((a) => rewriteAll(a)));
    if (replaced === null) continue;
    out += s.slice(from, m.index) + replaced;
    from = close + 1;
    re.lastIndex = from;
  }
  return out + s.slice(from);
}

/** Tokens after which a `+` is unary (no operand to its left). */
const UNARY_BEFORE = /(?:^|[(,=<>]|\b(?:AND|OR|NOT|ON|WHERE|SELECT|WHEN|THEN|ELSE|BY|HAVING|IS|IN|BETWEEN))\s*$/i;

/** SQLite planner hints that PostgreSQL rejects or does not need (see the header). */
function dropPlannerHints(code: string): string {
  // A join with a table (or a function call) and an alias, then ON: inner join in both dialects.
  let s = code.replace(/\bCROSS\s+JOIN(\s+[A-Za-z_][\w.]*(?:\s*\((?:[^()]|\([^()]*\))*\))?(?:\s+(?:AS\s+)?(?!ON\b)[A-Za-z_]\w*)?\s+ON\b)/gi, 'JOIN$1');
  s = s.replace(/\+(\s*[A-Za-z_])/g, (m, rest: string, at: number) => (UNARY_BEFORE.test(s.slice(0, at)) ? rest : m));
  return s;
}

function rewriteAll(code: string): string {
  let s = code;
  s = s.replace(/\bIFNULL\s*\(/gi, 'COALESCE(');
  s = s.replace(/\binstr\s*\(/gi, 'strpos(');
  s = rewriteCalls(s, 'group_concat', (a) => `string_agg((${a[0]})::text, ${a[1] ?? "','"})`);
  s = rewriteCalls(s, 'json_each', (a) => `json_array_elements_text((${a[0]})::json)`);
  s = rewriteCalls(s, 'min', (a) => (a.length >= 2 ? `LEAST(${a.join(', ')})` : null));
  s = rewriteCalls(s, 'max', (a) => (a.length >= 2 ? `GREATEST(${a.join(', ')})` : null));
  return s;
}

/** Where an ORDER BY list ends at its own depth: the clauses that may follow it. */
const AFTER_ORDER = /^(?:LIMIT|OFFSET|FOR|ROWS|RANGE|GROUPS|UNION|EXCEPT|INTERSECT|RETURNING)\b/i;

/**
 * SQLite sorts NULLs as the smallest value (first ascending, last descending); PostgreSQL as the
 * largest. Each ORDER BY term gets SQLite's order spelled out, except a plain column that can
 * hold no NULL (`notNull`; not when the statement has an outer join or an alias of that name):
 * there it changes nothing, and leaving it out keeps PostgreSQL's indexes usable for the sort.
 */
function nullsAsSqlite(code: string, notNull?: (column: string) => boolean): string {
  const outer = /\b(?:LEFT|RIGHT|FULL)\s+(?:OUTER\s+)?JOIN\b/i.test(code);
  const aliases = new Set([...code.matchAll(/\bAS\s+"?([A-Za-z_]\w*)/gi)].map((m) => m[1]!.toLowerCase()));
  const inserts: { at: number; text: string }[] = [];
  for (const m of code.matchAll(/\bORDER\s+BY\b/gi)) {
    let depth = 0;
    let termStart = m.index + m[0].length;
    const endTerm = (end: number) => {
      const term = code.slice(termStart, end);
      const body = term.trimEnd();
      if (!body.trim() || /\bNULLS\s+(?:FIRST|LAST)$/i.test(body)) return;
      const desc = /\bDESC$/i.test(body);
      const col = /^\s*(?:[A-Za-z_]\w*\.)?"?([A-Za-z_]\w*)"?(?:\s+(?:ASC|DESC))?$/i.exec(body)?.[1]?.toLowerCase();
      if (col && notNull && !outer && !aliases.has(col) && notNull(col)) return;
      inserts.push({ at: termStart + body.length, text: desc ? ' NULLS LAST' : ' NULLS FIRST' });
    };
    let i = termStart;
    for (; i < code.length; i++) {
      const c = code[i]!;
      if (c === '(') depth++;
      else if (c === ')') {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && c === ',') {
        endTerm(i);
        termStart = i + 1;
      } else if (depth === 0 && c === ';') break;
      else if (depth === 0 && /[A-Za-z]/.test(c) && !/\w/.test(code[i - 1] ?? ' ') && AFTER_ORDER.test(code.slice(i, i + 10))) break;
    }
    endTerm(i);
  }
  let out = code;
  for (const ins of inserts.sort((x, y) => y.at - x.at)) out = out.slice(0, ins.at) + ins.text + out.slice(ins.at);
  return out;
}

export interface TranslateOptions {
  /** Whether a column of this name holds no NULL in any table (see nullsAsSqlite). */
  notNull?: (column: string) => boolean;
}

export function translateSql(sql: string, opts: TranslateOptions = {}): TranslatedSql {
  const params: (number | string)[] = [];
  const named = new Map<string, number>();
  let positional = 0;
  const parts = segments(sql);
  // Code parts are joined with placeholders for the others, rewritten as one, then put back,
  // so a function call spanning a string literal is still seen whole.
  const hidden: string[] = [];
  let code = parts.map((p) => (p.code ? p.text : `\u0000${hidden.push(p.text) - 1}\u0000`)).join('');
  code = code.replace(/(::)|([?])|([@:$])([A-Za-z_][A-Za-z0-9_]*)/g, (m, cast: string, q: string, sigil: string, name: string) => {
    if (cast) return m;
    if (q) {
      params.push(positional++);
      return `$${params.length}`;
    }
    if (sigil === '$' && /^\d/.test(name)) return m;
    let k = named.get(name);
    if (k === undefined) {
      params.push(name);
      k = params.length;
      named.set(name, k);
    }
    return `$${k}`;
  });
  let insertInto: string | undefined;
  const ins = /^\s*INSERT\s+(OR\s+(IGNORE|REPLACE)\s+)?INTO\s+"?([A-Za-z_][A-Za-z0-9_]*)"?/i.exec(code);
  if (ins) {
    insertInto = ins[3]!.toLowerCase();
    if (ins[2]?.toUpperCase() === 'REPLACE') throw new Error(`INSERT OR REPLACE needs an explicit ON CONFLICT target in PostgreSQL: ${sql}`);
    if (ins[1]) {
      code = code.replace(/^\s*INSERT\s+OR\s+IGNORE\s+INTO/i, 'INSERT INTO');
      const ret = /\bRETURNING\b/i.exec(code);
      code = ret ? `${code.slice(0, ret.index)} ON CONFLICT DO NOTHING ${code.slice(ret.index)}` : `${code.trimEnd()} ON CONFLICT DO NOTHING`;
    }
  }
  code = dropPlannerHints(code);
  code = nullsAsSqlite(code, opts.notNull);
  code = rewriteAll(code);
  code = code.replace(/\bAS\s+([a-z][a-z0-9_]*[A-Z][A-Za-z0-9_]*)\b/g, 'AS "$1"');
  const text = code.replace(/\u0000(\d+)\u0000/g, (_m, k: string) => hidden[Number(k)]!);
  return { text, params, insertInto, returns: /\bRETURNING\b/i.test(code) };
}
