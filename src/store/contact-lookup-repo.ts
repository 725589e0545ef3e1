import type { Db } from './db.js';

/** The resolver's reads over wf_people (issue 14): bounded batches of the unbound, and the bound/total count. */
export interface LookupCandidate {
  id: number;
  name: string;
  phone: string | null;
  email: string | null;
}

export function createContactLookupRepo(db: Db) {
  const s = {
    // Never tried first (a fresh import); then those tried before whose last attempt is older than the retry age.
    fresh: db.prepare(`SELECT id, name, phone, email FROM wf_people WHERE open_id IS NULL AND lookup_at IS NULL ORDER BY id LIMIT ?`),
    due: db.prepare(`SELECT id, name, phone, email FROM wf_people WHERE open_id IS NULL AND lookup_at IS NOT NULL AND lookup_at <= ? ORDER BY id LIMIT ?`),
    freshCount: db.prepare(`SELECT COUNT(*) AS n FROM wf_people WHERE open_id IS NULL AND lookup_at IS NULL`).pluck(),
    counts: db.prepare(`SELECT COUNT(*) AS total, COUNT(open_id) AS bound FROM wf_people`),
  };
  return {
    /** Up to `limit` people never looked up, or else looked up at or before `retryBefore`. */
    candidates(retryBefore: number, limit: number): LookupCandidate[] {
      const fresh = s.fresh.all(limit) as LookupCandidate[];
      if (fresh.length >= limit) return fresh;
      return [...fresh, ...(s.due.all(retryBefore, limit - fresh.length) as LookupCandidate[])];
    },
    /** How many unbound people were never looked up (a fresh import waiting for the resolver). */
    freshCount(): number {
      return Number(s.freshCount.get());
    },
    counts(): { total: number; bound: number } {
      const r = s.counts.get() as { total: number | string; bound: number | string };
      return { total: Number(r.total), bound: Number(r.bound) };
    },
  };
}

export type ContactLookupRepo = ReturnType<typeof createContactLookupRepo>;
