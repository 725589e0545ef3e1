import type { Db } from '../store/db.js';
import { StatementCache, type ChannelHit, type FullText } from './fts.js';
import { ftsQuote } from './tokenize.js';

/** FTS5: contentless tables kb_fts (title, locator, body) and kb_grams, rowid = chunk id. */
export class SqliteFullText implements FullText {
  private readonly stmt: StatementCache;

  constructor(private readonly db: Db) {
    this.stmt = new StatementCache(db);
  }

  insert(chunkId: number, title: string, locator: string, body: string, grams: string): void {
    this.stmt.get('INSERT INTO kb_fts (rowid, title, locator, body) VALUES (?,?,?,?)').run(chunkId, title, locator, body);
    this.stmt.get('INSERT INTO kb_grams (rowid, grams) VALUES (?,?)').run(chunkId, grams);
  }

  insertWords(chunkId: number, title: string, locator: string, body: string): void {
    this.stmt.get('INSERT INTO kb_fts (rowid, title, locator, body) VALUES (?,?,?,?)').run(chunkId, title, locator, body);
  }

  /**
   * FTS5's 'delete-all', not DELETE: on a contentless_delete table DELETE leaves the row count and
   * column totals bm25() reads (each re-segmentation doubled them, shifting every IDF).
   */
  clearWords(): void {
    this.db.exec("INSERT INTO kb_fts (kb_fts) VALUES ('delete-all')");
  }

  deleteDoc(docId: number): void {
    this.db.prepare('DELETE FROM kb_fts WHERE rowid IN (SELECT id FROM kb_chunks WHERE doc_id = ?)').run(docId);
    this.db.prepare('DELETE FROM kb_grams WHERE rowid IN (SELECT id FROM kb_chunks WHERE doc_id = ?)').run(docId);
  }

  clear(): void {
    this.clearWords();
    this.db.exec("INSERT INTO kb_grams (kb_grams) VALUES ('delete-all')");
  }

  /** Word channel: BM25 with the title and locator columns weighted above the body. */
  searchWords(tokens: string[], limit: number): ChannelHit[] {
    if (tokens.length === 0) return [];
    return this.words(tokens.map(ftsQuote).join(' OR '), limit);
  }

  searchAll(groups: string[][], limit: number): ChannelHit[] {
    const parts = groups.filter((g) => g.length > 0).map((g) => `(${g.map(ftsQuote).join(' OR ')})`);
    if (parts.length < 2) return [];
    return this.words(parts.join(' AND '), limit);
  }

  private words(match: string, limit: number): ChannelHit[] {
    return (
      this.stmt.get(`SELECT rowid AS id, bm25(kb_fts, 2.0, 3.0, 1.0) AS s FROM kb_fts WHERE kb_fts MATCH ? ORDER BY s LIMIT ?`).all(match, limit) as { id: number; s: number }[]
    ).map((r) => ({ id: r.id, score: -r.s }));
  }

  searchGrams(grams: string[], limit: number): ChannelHit[] {
    if (grams.length === 0) return [];
    const match = grams.map(ftsQuote).join(' OR ');
    return (
      this.stmt.get(`SELECT rowid AS id, bm25(kb_grams) AS s FROM kb_grams WHERE kb_grams MATCH ? ORDER BY s LIMIT ?`).all(match, limit) as { id: number; s: number }[]
    ).map((r) => ({ id: r.id, score: -r.s }));
  }

  cooccurrence(a: string, others: string[]): number {
    if (others.length === 0) return 0;
    const match = `${ftsQuote(a)} AND (${others.map(ftsQuote).join(' OR ')})`;
    return (this.stmt.get('SELECT count(*) AS n FROM kb_fts WHERE kb_fts MATCH ?').get(match) as { n: number }).n;
  }

  vocabulary(): Map<string, number> {
    const m = new Map<string, number>();
    for (const r of this.db.prepare('SELECT term, doc FROM kb_fts_vocab').iterate() as Iterable<{ term: string; doc: number }>) m.set(r.term, r.doc);
    return m;
  }
}
