import type { OpenAIEmbeddings } from '@langchain/openai';
import type { Db } from '../store/db.js';
import type { Logger } from '../logger.js';
import type { VectorSearch } from './retrieve.js';

/**
 * Optional dense channel (EMBEDDING_BASE_URL). Vectors are stored per chunk and held
 * in memory for a brute-force cosine scan, which at this library's size (thousands
 * of chunks) is faster than any approximate index would be to maintain.
 */
export interface EmbeddingConfig {
  baseUrl: string;
  apiKey?: string;
  model: string;
}

export type Embeddings = Pick<OpenAIEmbeddings, 'embedDocuments' | 'embedQuery'>;

/** The embeddings client, loaded on first use (LangChain is heavy; see createChatModel). */
export function createEmbeddings(cfg: EmbeddingConfig): Embeddings {
  let client: Promise<OpenAIEmbeddings> | undefined;
  const load = () =>
    (client ??= import('@langchain/openai').then(
      ({ OpenAIEmbeddings }) =>
        new OpenAIEmbeddings({
          model: cfg.model,
          apiKey: cfg.apiKey ?? 'not-needed',
          configuration: { baseURL: cfg.baseUrl },
          // Compatible servers often answer floats only; the default base64 silently yields empty vectors.
          encodingFormat: 'float',
          batchSize: 16,
          maxRetries: 1,
        }),
    ));
  return {
    embedDocuments: async (texts) => (await load()).embedDocuments(texts),
    embedQuery: async (text) => (await load()).embedQuery(text),
  };
}

function toBlob(v: number[]): Buffer {
  return Buffer.from(new Float32Array(v).buffer);
}

function fromBlob(b: Buffer): Float32Array {
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new Float32Array(copy.buffer);
}

function normalize(v: ArrayLike<number>): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  const s = n > 0 ? 1 / Math.sqrt(n) : 0;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * s;
  return out;
}

export class EmbeddingIndex implements VectorSearch {
  private cache: { ids: number[]; vecs: Float32Array[] } | null = null;

  constructor(
    private readonly db: Db,
    private readonly embeddings: Embeddings,
    private readonly model: string,
    private readonly logger?: Logger,
  ) {}

  invalidate(): void {
    this.cache = null;
  }

  /** Embeds chunks that have no vector for this model yet. Failures are logged; full-text search still works. */
  async backfill(limit = 5000): Promise<number> {
    const rows = this.db
      .prepare(
        `SELECT c.id, c.text, d.title FROM kb_chunks c JOIN kb_documents d ON d.id = c.doc_id
         LEFT JOIN kb_embeddings e ON e.chunk_id = c.id AND e.model = ?
         WHERE e.chunk_id IS NULL ORDER BY c.id LIMIT ?`,
      )
      .all(this.model, limit) as { id: number; text: string; title: string }[];
    if (rows.length === 0) return 0;
    try {
      const vectors = await this.embeddings.embedDocuments(rows.map((r) => `《${r.title}》${r.text}`));
      const ins = this.db.prepare(`INSERT INTO kb_embeddings (chunk_id, model, dim, vector) VALUES (?,?,?,?)
         ON CONFLICT (chunk_id) DO UPDATE SET model = excluded.model, dim = excluded.dim, vector = excluded.vector`);
      this.db.transaction(() => {
        rows.forEach((r, i) => {
          const v = vectors[i];
          if (v && v.length > 0) ins.run(r.id, this.model, v.length, toBlob(v));
        });
      })();
      this.invalidate();
      return rows.length;
    } catch (e) {
      this.logger?.warn({ err: e instanceof Error ? e.message : String(e) }, 'kb: embedding failed; full-text search only');
      return 0;
    }
  }

  private load(): { ids: number[]; vecs: Float32Array[] } {
    if (!this.cache) {
      const rows = this.db.prepare('SELECT chunk_id, vector FROM kb_embeddings WHERE model = ?').all(this.model) as {
        chunk_id: number;
        vector: Buffer;
      }[];
      this.cache = { ids: rows.map((r) => r.chunk_id), vecs: rows.map((r) => normalize(fromBlob(r.vector))) };
    }
    return this.cache;
  }

  async search(question: string, limit: number): Promise<{ id: number; score: number }[]> {
    const { ids, vecs } = this.load();
    if (ids.length === 0) return [];
    const q = normalize(await this.embeddings.embedQuery(question));
    const scored: { id: number; score: number }[] = [];
    for (let i = 0; i < vecs.length; i++) {
      const v = vecs[i]!;
      if (v.length !== q.length) continue;
      let s = 0;
      for (let j = 0; j < q.length; j++) s += q[j]! * v[j]!;
      scored.push({ id: ids[i]!, score: s });
    }
    return scored.sort((a, b) => b.score - a.score).slice(0, limit);
  }
}
