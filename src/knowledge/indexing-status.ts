import { basename } from 'node:path';
import type { IngestProgress } from './ingest.js';

/** What /readyz shows of the policy library's indexing: file names only, never the server's paths. */
export interface IndexingView {
  /** Files found by a run under way and not done yet (at most MAX_LISTED). */
  pending: string[];
  pendingCount: number;
  /** Files whose last attempt failed, with the reason (the Chinese message the admin gets). */
  failed: { file: string; reason: string }[];
}

const MAX_LISTED = 50;

/**
 * Progress of ingest runs (several may overlap: the start-up run and a `kb ingest`-like call).
 * A failure stays listed until the same file is indexed or found unchanged.
 */
export class IndexingStatus {
  private readonly pending = new Map<string, number>();
  private readonly failed = new Map<string, string>();

  tracker(onIndexed?: () => void): IngestProgress {
    const mine = new Set<string>();
    return {
      onFiles: (files) => {
        for (const f of files) {
          mine.add(f);
          this.pending.set(f, (this.pending.get(f) ?? 0) + 1);
        }
      },
      onFile: (file, outcome) => {
        this.done(file, mine);
        if (outcome.failed) this.failed.set(file, outcome.failed);
        else {
          this.failed.delete(file);
          onIndexed?.();
        }
      },
      onEnd: () => {
        for (const f of mine) this.done(f, mine);
      },
    };
  }

  private done(file: string, mine: Set<string>): void {
    if (!mine.delete(file)) return;
    const n = (this.pending.get(file) ?? 1) - 1;
    if (n > 0) this.pending.set(file, n);
    else this.pending.delete(file);
  }

  view(): IndexingView {
    const pending = [...this.pending.keys()];
    return {
      pending: pending.slice(0, MAX_LISTED).map((f) => basename(f)),
      pendingCount: pending.length,
      failed: [...this.failed].slice(0, MAX_LISTED).map(([f, reason]) => ({ file: basename(f), reason })),
    };
  }
}
