import type { ChunkRow, IndexRepo } from './index-repo.js';

/**
 * Chunk rows and their token sets, kept between questions. Every question reads a few dozen
 * candidate rows (text and 2–3 KB token strings) and tests its words against their tokens:
 * from SQL and string scans each time, that was a third of a question's CPU under load
 * (profiled, tests/faults/load.fault.ts). Bounded; cleared with the retriever's other caches
 * whenever the index changes (Retriever.invalidate).
 */
export class ChunkCache {
  private readonly rows = new Map<number, ChunkRow>();
  private readonly tokenSets = new WeakMap<ChunkRow, Set<string>>();

  constructor(private readonly max = 20_000) {}

  get(repo: IndexRepo, ids: number[]): Map<number, ChunkRow> {
    const out = new Map<number, ChunkRow>();
    const missing: number[] = [];
    for (const id of ids) {
      const r = this.rows.get(id);
      if (r) out.set(id, r);
      else missing.push(id);
    }
    if (missing.length) {
      const fetched = repo.chunks(missing);
      // Oldest first out: Map keeps insertion order.
      for (const [id, r] of fetched) {
        if (this.rows.size >= this.max) this.rows.delete(this.rows.keys().next().value!);
        this.rows.set(id, r);
        out.set(id, r);
      }
    }
    return out;
  }

  /** The passage's body and heading tokens as a set (what a question's spellings are tested against). */
  tokens(chunk: ChunkRow): Set<string> {
    let t = this.tokenSets.get(chunk);
    if (!t) {
      t = new Set(`${chunk.tokens} ${chunk.head_tokens}`.split(' ').filter(Boolean));
      this.tokenSets.set(chunk, t);
    }
    return t;
  }

  clear(): void {
    this.rows.clear();
  }
}
