/**
 * Reciprocal rank fusion (Cormack et al.; k = 60 as in FastGPT and LangChain's
 * EnsembleRetriever): each channel contributes 1/(k + rank), so channels with
 * incomparable scores (BM25, bigram BM25, cosine) can be combined.
 */
export const RRF_K = 60;

export function reciprocalRankFusion(channels: Record<string, number[]>, k = RRF_K): Map<number, number> {
  const out = new Map<number, number>();
  for (const ids of Object.values(channels)) {
    ids.forEach((id, rank) => out.set(id, (out.get(id) ?? 0) + 1 / (k + rank + 1)));
  }
  return out;
}
