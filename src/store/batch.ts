/**
 * Group commit: calls submitted during one turn of the event loop are written
 * in one transaction (setImmediate), each caller getting its own result. A
 * commit per event would cost more than everything else on the webhook path.
 */
export class BatchWriter<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  /** `write` runs inside one transaction and returns one result per item, in order. */
  constructor(private readonly write: (items: I[]) => O[]) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let results: O[];
    try {
      results = this.write(batch.map((b) => b.item));
    } catch (e) {
      for (const b of batch) b.reject(e);
      return;
    }
    batch.forEach((b, i) => b.resolve(results[i]!));
  }
}
