import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per runtime (not prom-client's global), so tests and several runtimes never collide. */
export function createMetrics(opts: { outboxDepth: () => number; handlerQueue?: () => number; defaultMetrics?: boolean }) {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  const eventsReceived = new Counter({
    name: 'huanjie_events_received_total',
    help: 'Lark events accepted for handling, by type',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const eventsDuplicate = new Counter({
    name: 'huanjie_events_duplicate_total',
    help: 'Lark events dropped as duplicates (same event_id or message_id)',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const eventsRefused = new Counter({
    name: 'huanjie_events_refused_total',
    help: 'Webhook requests refused, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const handlerSeconds = new Histogram({
    name: 'huanjie_handler_duration_seconds',
    help: 'Time spent handling one event, by type and outcome',
    labelNames: ['type', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    registers: [registry],
  });
  const sends = new Counter({
    name: 'huanjie_sends_total',
    help: 'Send attempts of outbox messages, by result',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'huanjie_outbox_depth',
    help: 'Messages waiting in the outbox (pending or being sent)',
    registers: [registry],
    collect() {
      this.set(opts.outboxDepth());
    },
  });
  if (opts.handlerQueue) {
    const queued = opts.handlerQueue;
    new Gauge({
      name: 'huanjie_handler_queue_length',
      help: 'Acknowledged events waiting for their handler to start (a growing value means handling falls behind)',
      registers: [registry],
      collect() {
        this.set(queued());
      },
    });
  }
  const kbLlmRejected = new Counter({
    name: 'huanjie_kb_llm_rejected_total',
    help: 'Model answers not shown (the offline answer was used instead), by reason: a failed grounding check (uncited, unknown_citation, article, title, quantity, modality, empty) or the call (timeout, error)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const kbLlmRewrite = new Counter({
    name: 'huanjie_kb_llm_rewrite_total',
    help: 'Question rewrites into search terms before retrieval, by outcome (rewritten, timeout, error, empty)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const kbCardStream = new Counter({
    name: 'huanjie_kb_card_stream_total',
    help: 'Answers streamed into a CardKit card, by outcome (streamed, replaced: the check failed after streaming and the offline answer was put in, fallback: a normal card was sent)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const backups = new Counter({
    name: 'huanjie_backup_total',
    help: 'Scheduled backups, by result (ok, failed: the reason is in the log)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  return { registry, backups, eventsReceived, eventsDuplicate, eventsRefused, handlerSeconds, sends, kbLlmRejected, kbLlmRewrite, kbCardStream };
}

/** The knowledge service's counters, as the service reports them. */
export function knowledgeMetrics(m: Pick<Metrics, 'kbLlmRejected' | 'kbLlmRewrite'>): { llmRejected(reason: string): void; rewrite(outcome: string): void } {
  return {
    llmRejected: (reason) => m.kbLlmRejected.inc({ reason }),
    rewrite: (outcome) => m.kbLlmRewrite.inc({ outcome }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
