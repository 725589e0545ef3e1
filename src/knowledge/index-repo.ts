import type { Db } from '../store/db.js';
import { inTransaction } from '../store/db.js';
import { dialectOf } from '../store/sql.js';
import type { PreparedDocument } from './document.js';
import { StatementCache, type ChannelHit, type FullText } from './fts.js';
import { PgFullText } from './fts-pg.js';
import { SqliteFullText } from './fts-sqlite.js';
import { TOKENIZER_SIGNATURE, charBigrams, indexTokens } from './tokenize.js';

export type { ChannelHit } from './fts.js';

/**
 * Storage of documents, chunks and both full-text channels, on SQLite or PostgreSQL: the
 * SQL here is common to both, the full-text channels are FullText (fts-sqlite.ts, fts-pg.ts).
 * All writes for one document are one transaction.
 */
export interface DocRow {
  id: number;
  path: string;
  name: string;
  title: string;
  family: string;
  issuer: string | null;
  version: string | null;
  version_date: string | null;
  format: string;
  shape: string;
  authority: string;
  hash: string;
  chunk_count: number;
  superseded_by: number | null;
  ingested_at: number;
  updated_at: number;
}

export interface ChunkRow {
  id: number;
  doc_id: number;
  ordinal: number;
  locator: string;
  part: number;
  heading_path: string;
  lead: string | null;
  kind: string;
  text: string;
  tokens: string;
  head_tokens: string;
  prev_id: number | null;
  next_id: number | null;
  // joined from the document
  doc_name: string;
  doc_title: string;
  doc_version: string | null;
  doc_superseded: number;
  doc_title_tokens: string;
  doc_authority: string;
}

const CHUNK_SELECT = `SELECT c.*, d.name AS doc_name, d.title AS doc_title, d.version AS doc_version,
  (d.superseded_by IS NOT NULL) AS doc_superseded, d.title_tokens AS doc_title_tokens, d.authority AS doc_authority
  FROM kb_chunks c JOIN kb_documents d ON d.id = c.doc_id`;

export class IndexRepo {
  private readonly fts: FullText;
  /** Prepared once per SQL text: the query path runs the same few statements on every question. */
  private readonly statements: StatementCache;

  constructor(private readonly db: Db) {
    this.fts = dialectOf(db) === 'postgres' ? new PgFullText(db) : new SqliteFullText(db);
    this.statements = new StatementCache(db);
  }

  private stmt(sql: string) {
    return this.statements.get(sql);
  }

  docByPath(path: string): DocRow | undefined {
    return this.db.prepare('SELECT * FROM kb_documents WHERE path = ?').get(path) as DocRow | undefined;
  }

  listDocs(): DocRow[] {
    return this.db.prepare('SELECT * FROM kb_documents ORDER BY family, version_date DESC NULLS LAST, name').all() as DocRow[];
  }

  /** Documents matching a name, a path, or an id given as text (for `kb remove`). */
  findDocs(ref: string): DocRow[] {
    const id = /^\d+$/.test(ref) ? Number(ref) : -1;
    return this.db
      .prepare('SELECT * FROM kb_documents WHERE id = ? OR path = ? OR name = ? OR title = ?')
      .all(id, ref, ref, ref) as DocRow[];
  }

  /**
   * Inserts or replaces a document and all its chunks atomically: readers see either
   * the old chunks or the new ones, never a mix, and a failure leaves the old ones.
   */
  replaceDocument(doc: PreparedDocument, now: number): DocRow {
    // Segment outside the transaction: it is the slow part and needs no lock.
    const rows = doc.chunks.map((c) => ({
      c,
      body: indexTokens(c.text).join(' '),
      loc: indexTokens([c.locator, ...c.headingPath, c.lead ?? ''].join(' ')).join(' '),
      grams: charBigrams(c.text).join(' '),
    }));
    const titleTokens = indexTokens(doc.meta.title).join(' ');
    return inTransaction(this.db, () => {
      const old = this.docByPath(doc.path);
      if (old) this.deleteChunks(old.id);
      let docId: number;
      const m = doc.meta;
      if (old) {
        this.db
          .prepare(
            `UPDATE kb_documents SET name=?, title=?, family=?, issuer=?, version=?, version_date=?, source=?, format=?,
             encoding=?, shape=?, authority=?, hash=?, chunk_count=?, title_tokens=?, updated_at=? WHERE id=?`,
          )
          .run(doc.name, m.title, m.family, m.issuer, m.version, m.versionDate, m.source, doc.format, doc.encoding, doc.shape, m.authority, doc.hash, rows.length, titleTokens, now, old.id);
        docId = old.id;
      } else {
        docId = Number(
          this.db
            .prepare(
              `INSERT INTO kb_documents (path, name, title, family, issuer, version, version_date, source, format, encoding, shape,
               authority, hash, chunk_count, title_tokens, ingested_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
            )
            .run(doc.path, doc.name, m.title, m.family, m.issuer, m.version, m.versionDate, m.source, doc.format, doc.encoding, doc.shape, m.authority, doc.hash, rows.length, titleTokens, now, now)
            .lastInsertRowid,
        );
      }
      const insChunk = this.db.prepare(
        `INSERT INTO kb_chunks (doc_id, ordinal, locator, part, heading_path, lead, kind, text, tokens, head_tokens) VALUES (?,?,?,?,?,?,?,?,?,?)`,
      );
      const ids: number[] = [];
      rows.forEach(({ c, body, loc, grams }, i) => {
        const id = Number(
          insChunk.run(docId, i, c.locator, c.part, JSON.stringify(c.headingPath), c.lead ?? null, c.kind, c.text, body, loc).lastInsertRowid,
        );
        ids.push(id);
        this.fts.insert(id, titleTokens, loc, body, grams);
      });
      const link = this.db.prepare('UPDATE kb_chunks SET prev_id = ?, next_id = ? WHERE id = ?');
      ids.forEach((id, i) => link.run(ids[i - 1] ?? null, ids[i + 1] ?? null, id));
      this.recomputeSupersession(m.family);
      if (old && old.family !== m.family) this.recomputeSupersession(old.family);
      return this.db.prepare('SELECT * FROM kb_documents WHERE id = ?').get(docId) as DocRow;
    });
  }

  /**
   * Re-segments every stored chunk when the tokenizer (domain dictionary) changed since
   * the index was built, so old and new passages are searched with the same words.
   * Returns the number of chunks rebuilt.
   */
  ensureTokenizer(): number {
    const row = this.db.prepare("SELECT value FROM kb_meta WHERE key = 'tokenizer'").get() as { value: string } | undefined;
    if (row?.value === TOKENIZER_SIGNATURE) return 0;
    const docs = this.db.prepare('SELECT id, title FROM kb_documents').all() as { id: number; title: string }[];
    const chunks = this.db.prepare('SELECT id, doc_id, locator, heading_path, lead, text FROM kb_chunks').all() as {
      id: number;
      doc_id: number;
      locator: string;
      heading_path: string;
      lead: string | null;
      text: string;
    }[];
    const titles = new Map(docs.map((d) => [d.id, indexTokens(d.title).join(' ')]));
    inTransaction(this.db, () => {
      // Only the word channel depends on the dictionary; the bigram channel (text only) stays,
      // which halves the full-text work of a re-segmentation (it runs at start-up).
      this.fts.clearWords();
      const title = this.db.prepare('UPDATE kb_documents SET title_tokens = ? WHERE id = ?');
      for (const [id, t] of titles) title.run(t, id);
      const upd = this.db.prepare('UPDATE kb_chunks SET tokens = ?, head_tokens = ? WHERE id = ?');
      for (const c of chunks) {
        const body = indexTokens(c.text).join(' ');
        const head = indexTokens([c.locator, ...(JSON.parse(c.heading_path) as string[]), c.lead ?? ''].join(' ')).join(' ');
        upd.run(body, head, c.id);
        this.fts.insertWords(c.id, titles.get(c.doc_id) ?? '', head, body);
      }
      this.db.prepare("INSERT INTO kb_meta (key, value) VALUES ('tokenizer', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(TOKENIZER_SIGNATURE);
    });
    return chunks.length;
  }

  /** Drops documents and their chunks; the versions they superseded come back into answers. */
  removeDocuments(docs: DocRow[]): void {
    inTransaction(this.db, () => {
      for (const d of docs) {
        this.deleteChunks(d.id);
        this.db.prepare('DELETE FROM kb_documents WHERE id = ?').run(d.id);
      }
      for (const fam of new Set(docs.map((d) => d.family))) this.recomputeSupersession(fam);
    });
  }

  private deleteChunks(docId: number): void {
    this.fts.deleteDoc(docId);
    this.db.prepare('DELETE FROM kb_chunks WHERE doc_id = ?').run(docId);
  }

  /**
   * Within a family (same title without version notes) the newest dated version is
   * current; older dated versions point at it. Undated documents are never superseded,
   * since nothing says they are older.
   */
  recomputeSupersession(family: string): void {
    const docs = this.db
      .prepare('SELECT id, version_date FROM kb_documents WHERE family = ? ORDER BY version_date DESC NULLS LAST, id DESC')
      .all(family) as { id: number; version_date: string | null }[];
    const newest = docs.find((d) => d.version_date !== null);
    const set = this.db.prepare('UPDATE kb_documents SET superseded_by = ? WHERE id = ?');
    for (const d of docs) {
      const older = newest && d.version_date !== null && d.version_date < newest.version_date! ? newest.id : null;
      set.run(older, d.id);
    }
  }

  /** Word channel: BM25 with the title and locator columns weighted above the body. */
  searchWords(tokens: string[], limit: number): ChannelHit[] {
    return this.fts.searchWords(tokens, limit);
  }

  /** Passages containing at least one token of every group (AND of ORs). */
  searchAll(groups: string[][], limit: number): ChannelHit[] {
    return this.fts.searchAll(groups, limit);
  }

  /** Bigram channel. */
  searchGrams(grams: string[], limit: number): ChannelHit[] {
    return this.fts.searchGrams(grams, limit);
  }

  /** Number of chunks containing `a` and any of `others` (used to pick among typo corrections). */
  cooccurrence(a: string, others: string[]): number {
    return this.fts.cooccurrence(a, others);
  }

  chunks(ids: number[]): Map<number, ChunkRow> {
    const out = new Map<number, ChunkRow>();
    if (ids.length === 0) return out;
    // One statement whatever the number of ids (a JSON array), so it is prepared once. The cast:
    // PostgreSQL's json elements are text.
    for (const r of this.stmt(`${CHUNK_SELECT} WHERE c.id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))`).all(JSON.stringify(ids)) as ChunkRow[]) out.set(r.id, r);
    return out;
  }

  /**
   * Changes whenever a document is added, replaced or removed, by this process or another
   * (a `kb ingest` from the CLI next to a running service, another instance on PostgreSQL):
   * what the retriever's caches are checked against. One scan of the small documents table.
   */
  libraryState(): string {
    // Each document's content hash, in id order: a replace that reuses the ids and lands in the
    // same millisecond still changes it. A few dozen rows in a real library.
    const sql =
      dialectOf(this.db) === 'postgres'
        ? "SELECT coalesce(string_agg(id || ':' || hash || ':' || updated_at, ',' ORDER BY id), '') AS s FROM kb_documents"
        : "SELECT coalesce(group_concat(id || ':' || hash || ':' || updated_at, ','), '') AS s FROM (SELECT id, hash, updated_at FROM kb_documents ORDER BY id)";
    return String((this.stmt(sql).get() as { s: unknown }).s);
  }

  chunksOfDoc(docId: number): ChunkRow[] {
    return this.db.prepare(`${CHUNK_SELECT} WHERE c.doc_id = ? ORDER BY c.ordinal`).all(docId) as ChunkRow[];
  }

  /** Document frequency of every indexed word (from the full-text index itself). */
  vocabulary(): Map<string, number> {
    return this.fts.vocabulary();
  }

  /**
   * The current (not superseded) article `article` (第十五条) of the law whose title holds `law`.
   * The shortest such title is the law itself: 《四川省实施〈中华人民共和国村民委员会组织法〉办法》
   * holds the name too, and must not answer for 《村民委员会组织法》第十五条 (seen on the 5,000-passage
   * bench library). Documents first, then their chunks through the (doc_id, ordinal) index: joined the
   * other way round this scanned every chunk (≈ 14 ms on 5,000 passages, per uncached citation).
   */
  articleId(law: string, article: string): number | null {
    const r = this
      .stmt(
        `SELECT c.id FROM kb_documents d CROSS JOIN kb_chunks c
         WHERE c.doc_id = d.id AND d.superseded_by IS NULL AND d.authority = 'primary' AND instr(d.title, ?) > 0 AND c.locator = ?
         ORDER BY c.part, length(d.family), d.version_date DESC NULLS LAST, c.id LIMIT 1`,
      )
      .get(law, article) as { id: number } | undefined;
    return r?.id ?? null;
  }

  /** Every passage's text (for character document frequencies). */
  *chunkTexts(): Iterable<string> {
    for (const r of this.db.prepare('SELECT text FROM kb_chunks').iterate() as Iterable<{ text: string }>) yield r.text;
  }

  chunkCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM kb_chunks').get() as { n: number }).n;
  }

  /** Chunk ids in id order, for embedding back-fills. */
  chunkIdsWithoutEmbedding(model: string, limit: number): { id: number; text: string; title: string }[] {
    return this.db
      .prepare(
        `SELECT c.id, c.text, d.title FROM kb_chunks c JOIN kb_documents d ON d.id = c.doc_id
         LEFT JOIN kb_embeddings e ON e.chunk_id = c.id AND e.model = ?
         WHERE e.chunk_id IS NULL ORDER BY c.id LIMIT ?`,
      )
      .all(model, limit) as { id: number; text: string; title: string }[];
  }
}
