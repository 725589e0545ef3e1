import { describe, expect, it } from 'vitest';
import { translateSql } from '../../src/store/pg/translate.js';

/** The SQLite → PostgreSQL rewrites (src/store/pg/translate.ts), on the text alone: no database needed. */
const t = (sql: string, notNull?: (c: string) => boolean) => translateSql(sql, { notNull }).text;
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('translateSql', () => {
  it('numbers placeholders, named ones once each', () => {
    const q = translateSql('SELECT * FROM t WHERE a = ? AND b = @b AND c = ? AND d = @b');
    expect(q.text).toBe('SELECT * FROM t WHERE a = $1 AND b = $2 AND c = $3 AND d = $2');
    expect(q.params).toEqual([0, 'b', 1]);
  });

  it('leaves placeholders, functions and keywords inside strings and comments alone', () => {
    expect(t("SELECT 'a ? b', x FROM t WHERE y = ? -- ORDER BY z ?\n")).toBe("SELECT 'a ? b', x FROM t WHERE y = $1 -- ORDER BY z ?\n");
  });

  it('drops SQLite planner hints: CROSS JOIN … ON becomes JOIN … ON, a unary + goes', () => {
    expect(t(`SELECT v.id FROM wf_regions t CROSS JOIN wf_regions v ON v.parent_id = t.id AND +v.kind = 'village' WHERE t.parent_id = ?`)).toBe(
      `SELECT v.id FROM wf_regions t JOIN wf_regions v ON v.parent_id = t.id AND v.kind = 'village' WHERE t.parent_id = $1`,
    );
    expect(squash(t(`SELECT k.id FROM json_each(?) j CROSS JOIN wf_talks k ON k.id = CAST(j.value AS BIGINT)`))).toBe(
      'SELECT k.id FROM json_array_elements_text(($1)::json) j JOIN wf_talks k ON k.id = CAST(j.value AS BIGINT)',
    );
    // A CROSS JOIN without ON is PostgreSQL's too; a binary + stays.
    expect(t('SELECT a.x + b.y, 1 +x FROM a CROSS JOIN b')).toBe('SELECT a.x + b.y, 1 +x FROM a CROSS JOIN b');
    expect(t('SELECT * FROM t WHERE (+a = 1) OR +b = 2')).toBe('SELECT * FROM t WHERE (a = 1) OR b = 2');
  });

  it('sorts NULLs as SQLite does: first ascending, last descending', () => {
    expect(t('SELECT * FROM t ORDER BY a, b DESC, c ASC LIMIT ?')).toBe('SELECT * FROM t ORDER BY a NULLS FIRST, b DESC NULLS LAST, c ASC NULLS FIRST LIMIT $1');
    expect(t('SELECT * FROM t ORDER BY due_date IS NULL, due_date, id')).toBe('SELECT * FROM t ORDER BY due_date IS NULL NULLS FIRST, due_date NULLS FIRST, id NULLS FIRST');
    // Expressions, nested queries and window clauses; an explicit NULLS stays.
    expect(t('SELECT (SELECT x FROM u ORDER BY y DESC LIMIT 1) FROM t ORDER BY COALESCE(a, b), f(c, d) DESC NULLS FIRST')).toBe(
      'SELECT (SELECT x FROM u ORDER BY y DESC NULLS LAST LIMIT 1) FROM t ORDER BY COALESCE(a, b) NULLS FIRST, f(c, d) DESC NULLS FIRST',
    );
    expect(t('SELECT row_number() OVER (ORDER BY a ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t')).toBe(
      'SELECT row_number() OVER (ORDER BY a NULLS FIRST ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t',
    );
    expect(t('SELECT id FROM o WHERE s = ? ORDER BY at, id LIMIT 5 FOR UPDATE SKIP LOCKED')).toBe(
      'SELECT id FROM o WHERE s = $1 ORDER BY at NULLS FIRST, id NULLS FIRST LIMIT 5 FOR UPDATE SKIP LOCKED',
    );
  });

  it('leaves NOT NULL columns unmarked (indexes stay usable), unless an outer join or an alias may bring NULLs', () => {
    const notNull = (c: string) => c === 'id' || c === 'name';
    expect(t('SELECT * FROM t ORDER BY t.name, id DESC, note', notNull)).toBe('SELECT * FROM t ORDER BY t.name, id DESC, note NULLS FIRST');
    expect(t('SELECT * FROM t LEFT JOIN u ON u.t = t.id ORDER BY u.name', notNull)).toBe('SELECT * FROM t LEFT JOIN u ON u.t = t.id ORDER BY u.name NULLS FIRST');
    expect(t('SELECT MAX(x) AS name FROM t GROUP BY y ORDER BY name', notNull)).toBe('SELECT MAX(x) AS name FROM t GROUP BY y ORDER BY name NULLS FIRST');
  });

  it('rewrites SQLite functions and INSERT OR IGNORE', () => {
    expect(t('SELECT IFNULL(a, 0), instr(b, ?), min(c, d), max(e, f), max(g) FROM t')).toBe('SELECT COALESCE(a, 0), strpos(b, $1), LEAST(c, d), GREATEST(e, f), max(g) FROM t');
    expect(t("SELECT group_concat(name, '、') FROM t")).toBe("SELECT string_agg((name)::text, '、') FROM t");
    const q = translateSql('INSERT OR IGNORE INTO wf_talk_interviewers (talk_id, person_id) VALUES (?, ?)');
    expect(q.text).toBe('INSERT INTO wf_talk_interviewers (talk_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING');
    expect(q.insertInto).toBe('wf_talk_interviewers');
  });

  it('quotes camelCase aliases', () => {
    expect(t('SELECT v.election_day AS electionDay, t.id AS townshipId FROM v')).toBe('SELECT v.election_day AS "electionDay", t.id AS "townshipId" FROM v');
  });
});
