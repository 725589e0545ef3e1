import type { Db } from '../store/db.js';
import { StatementCache, type ChannelHit, type FullText } from './fts.js';

/**
 * PostgreSQL: kb_fts and kb_grams hold the same space-joined jieba tokens as SQLite's FTS5
 * tables, with a 'simple' tsvector (title weight A, locator B, body D) and a GIN index
 * (src/store/pg/migrations/002-knowledge.sql). The GIN index finds the candidates (@@);
 * they are scored with FTS5's own bm25() rather than ts_rank, so both stores rank alike
 * (ts_rank, which has no IDF: dev 97.8 and fresh2 87.4 % fact instead of 100 and 90.5):
 *
 *   score = Σ_term idf · tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl)),  k1 = 1.2, b = 0.75
 *   idf   = max(ln((N − n + 0.5)/(n + 0.5)), 1e-6)      n: passages holding the term
 *   tf    = 2·(in title) + 3·(in locator) + 1·(in body)  (the tsvector's weights A, B, D)
 *   dl    = tokens in all columns; N, avgdl over the table
 *
 * A term listed twice counts twice, as a repeated FTS5 phrase does.
 */
/** tf from the positions' weights: each counts 1, an A (title) one more, a B (locator) two more. */
const TF = `(cardinality(u.weights) + cardinality(array_positions(u.weights, 'A')) + 2 * cardinality(array_positions(u.weights, 'B')))::float8`;

/** Tokens in a space-joined column, without building an array. */
const tokens = (col: string) => `(CASE WHEN ${col} = '' THEN 0 ELSE length(${col}) - length(replace(${col}, ' ', '')) + 1 END)`;

type Table = 'kb_fts' | 'kb_grams';
const DL: Record<Table, string> = {
  kb_fts: `${tokens('title')} + ${tokens('locator')} + ${tokens('body')}`,
  kb_grams: tokens('grams'),
};

/**
 * One pass over the candidates gives each (passage, term) its tf; each candidate's tsvector
 * is first cut down to the query's terms (two ts_delete calls: 3× faster than unnesting all
 * its lexemes). An OR query has every passage holding a term among its candidates, so n is
 * counted there; an AND query is given n (from the vocabulary). MATERIALIZED: an inlined
 * CTE can end up evaluated once per row of the final sum; OFFSET 0: dl once per passage,
 * not once per (passage, term).
 * Parameters: tsquery, terms, [AND: terms, n], N, terms, avgdl, limit.
 */
function bm25Sql(table: Table, conjunctive: boolean): string {
  const df = conjunctive ? 'SELECT * FROM unnest(?::text[], ?::float8[]) AS d(term, n)' : 'SELECT term, count(*)::float8 AS n FROM c GROUP BY term';
  return `WITH c AS MATERIALIZED (
      SELECT f.chunk_id, f.dl, u.lexeme AS term, ${TF} AS tf
      FROM (SELECT chunk_id, tsv, (${DL[table]})::float8 AS dl FROM ${table} WHERE tsv @@ to_tsquery('simple', ?) OFFSET 0) f,
        unnest(ts_delete(f.tsv, tsvector_to_array(ts_delete(f.tsv, ?::text[])))) u
    ), d AS MATERIALIZED (${df}
    ), q AS MATERIALIZED (
      SELECT t.term, greatest(ln((?::float8 - d.n + 0.5) / (d.n + 0.5)), 1e-6) AS idf
      FROM unnest(?::text[]) AS t(term) JOIN d ON d.term = t.term
    )
    SELECT c.chunk_id AS id, sum(q.idf * c.tf * 2.2 / (c.tf + 1.2 * (0.25 + 0.75 * c.dl / ?::float8))) AS score
    FROM c JOIN q ON q.term = c.term
    GROUP BY c.chunk_id ORDER BY score DESC, c.chunk_id LIMIT ?`;
}

/** Changes whenever the indexed passages may have (another instance ingested or removed a file). */
const FINGERPRINT = `SELECT count(*) AS docs, COALESCE(sum(chunk_count), 0) AS chunks, COALESCE(max(updated_at), 0) AS at,
  (SELECT value FROM kb_meta WHERE key = 'tokenizer') AS tokenizer FROM kb_documents`;

/** A token as a quoted tsquery operand: never read as operators, whatever it holds. */
const operand = (t: string) => `'${t.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
const anyOf = (ts: string[]) => `(${ts.map(operand).join(' | ')})`;
/** An array literal for a parameter. */
const pgArray = (xs: (string | number)[]) => `{${xs.map((x) => (typeof x === 'number' ? String(x) : `"${x.replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`;

/** What the whole index says, kept until the passages change: N and avgdl take a full scan, the vocabulary ts_stat. */
interface Snapshot {
  key: string;
  stats: Map<Table, { n: number; avgdl: number }>;
  vocab?: Map<string, number>;
}

export class PgFullText implements FullText {
  private readonly stmt: StatementCache;
  private snap: Snapshot | null = null;

  constructor(private readonly db: Db) {
    this.stmt = new StatementCache(db);
  }

  insert(chunkId: number, title: string, locator: string, body: string, grams: string): void {
    this.snap = null;
    this.stmt.get('INSERT INTO kb_fts (chunk_id, title, locator, body) VALUES (?,?,?,?)').run(chunkId, title, locator, body);
    this.stmt.get('INSERT INTO kb_grams (chunk_id, grams) VALUES (?,?)').run(chunkId, grams);
  }

  insertWords(chunkId: number, title: string, locator: string, body: string): void {
    this.snap = null;
    this.stmt.get('INSERT INTO kb_fts (chunk_id, title, locator, body) VALUES (?,?,?,?)').run(chunkId, title, locator, body);
  }

  clearWords(): void {
    this.snap = null;
    this.db.exec('DELETE FROM kb_fts');
  }

  deleteDoc(docId: number): void {
    this.snap = null;
    this.db.prepare('DELETE FROM kb_fts WHERE chunk_id IN (SELECT id FROM kb_chunks WHERE doc_id = ?)').run(docId);
    this.db.prepare('DELETE FROM kb_grams WHERE chunk_id IN (SELECT id FROM kb_chunks WHERE doc_id = ?)').run(docId);
  }

  clear(): void {
    this.snap = null;
    this.db.exec('DELETE FROM kb_fts; DELETE FROM kb_grams;');
  }

  searchWords(tokens: string[], limit: number): ChannelHit[] {
    const ts = tokens.filter(Boolean);
    return ts.length ? this.bm25('kb_fts', ts, anyOf(ts), limit) : [];
  }

  searchAll(groups: string[][], limit: number): ChannelHit[] {
    const gs = groups.map((g) => g.filter(Boolean)).filter((g) => g.length > 0);
    if (gs.length < 2) return [];
    return this.bm25('kb_fts', gs.flat(), gs.map(anyOf).join(' & '), limit, true);
  }

  searchGrams(grams: string[], limit: number): ChannelHit[] {
    const ts = grams.filter(Boolean);
    return ts.length ? this.bm25('kb_grams', ts, anyOf(ts), limit) : [];
  }

  private bm25(table: Table, terms: string[], match: string, limit: number, conjunctive = false): ChannelHit[] {
    const { n, avgdl } = this.tableStats(table);
    const arr = pgArray(terms);
    const distinct = [...new Set(terms)];
    const vocab = conjunctive ? this.vocabulary() : undefined;
    const df = vocab ? [pgArray(distinct), pgArray(distinct.map((t) => vocab.get(t) ?? 0))] : [];
    return this.stmt.get(bm25Sql(table, conjunctive)).all(match, arr, ...df, n, arr, avgdl, limit) as ChannelHit[];
  }

  private snapshot(): Snapshot {
    const key = JSON.stringify(this.stmt.get(FINGERPRINT).get());
    if (this.snap?.key !== key) this.snap = { key, stats: new Map() };
    return this.snap;
  }

  private tableStats(table: Table): { n: number; avgdl: number } {
    const snap = this.snapshot();
    let s = snap.stats.get(table);
    if (!s) {
      const r = this.stmt.get(`SELECT count(*) AS n, COALESCE(avg(${DL[table]}), 1)::float8 AS avgdl FROM ${table}`).get() as { n: number; avgdl: number };
      s = { n: r.n, avgdl: r.avgdl || 1 };
      snap.stats.set(table, s);
    }
    return s;
  }

  cooccurrence(a: string, others: string[]): number {
    const os = others.filter(Boolean);
    if (os.length === 0 || !a) return 0;
    const match = `${operand(a)} & ${anyOf(os)}`;
    return (this.stmt.get(`SELECT count(*) AS n FROM kb_fts WHERE tsv @@ to_tsquery('simple', ?)`).get(match) as { n: number }).n;
  }

  /** kb_fts_vocab is a view over ts_stat (one scan of kb_fts); callers must not change the map. */
  vocabulary(): Map<string, number> {
    const snap = this.snapshot();
    if (!snap.vocab) {
      snap.vocab = new Map();
      for (const r of this.db.prepare('SELECT term, doc FROM kb_fts_vocab').iterate() as Iterable<{ term: string; doc: number }>) snap.vocab.set(r.term, r.doc);
    }
    return snap.vocab;
  }
}
