import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnvelope, type LarkEnvelope } from '../../src/bot/envelope.js';
import { cardActionEvent } from '../helpers/events.js';
import { startTestRuntime, TEST_VERIFICATION_TOKEN, type TestEnv } from '../helpers/test-runtime.js';

/**
 * Regression (issue 8, load): handlers ran inside the loop turn that
 * acknowledged their events, so a burst of N events was acknowledged only
 * after all N handlers had run (a question is a few ms of retrieval), and
 * card callbacks waited behind every handler that arrived before them. Under
 * 500 events/s this made loop turns long; Node accepts one new connection
 * per loop turn, so connections queued in the kernel and acknowledgements
 * took 3–15 s (tests/faults/load.fault.ts). Handlers now start from a queue
 * on later turns, in slices, card callbacks first.
 */
const SLOW = 'test.slow_v1';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

function envelope(payload: unknown): LarkEnvelope {
  const p = parseEnvelope(payload);
  if (!p.ok) throw new Error(p.reason);
  return p.envelope;
}

let seq = 0;
function slowEvent(): LarkEnvelope {
  return envelope({ schema: '2.0', header: { event_id: `ev_slow_${++seq}`, event_type: SLOW, token: TEST_VERIFICATION_TOKEN }, event: {} });
}

describe('handlers never hold up acknowledgements', () => {
  let t: TestEnv;
  let started: string[];
  const log: string[] = [];

  beforeEach(async () => {
    t = await startTestRuntime();
    started = [];
    log.length = 0;
    t.rt.dispatcher.on(SLOW, async (env) => {
      started.push(env.eventId);
      log.push(`handler ${env.eventId}`);
      busy(10);
    });
  });
  afterEach(async () => {
    await t.close({ remove: true });
  });

  it('acknowledges a whole burst before the first of its handlers runs', async () => {
    const evs = Array.from({ length: 20 }, slowEvent);
    const acks = evs.map((e) => t.rt.intake.receive(e).then((r) => log.push(`ack ${e.eventId} ${r.status}`)));
    await Promise.all(acks);
    // Before: each handler ran (10 ms of CPU) before its own acknowledgement, all 20 before the last one (≥ 200 ms).
    expect(started).toEqual([]);
    // The backlog is visible to operators.
    const gauge = async () => (await t.rt.metrics.registry.getSingleMetricAsString('huanjie_handler_queue_length')).split('\n').at(-1);
    expect(await gauge()).toBe('huanjie_handler_queue_length 20');
    await t.rt.idle();
    expect(started).toHaveLength(20);
    expect(await gauge()).toBe('huanjie_handler_queue_length 0');
    const firstHandler = log.findIndex((l) => l.startsWith('handler'));
    expect(log.slice(0, firstHandler)).toHaveLength(20);
    expect(log.slice(0, firstHandler).every((l) => l.endsWith('accepted'))).toBe(true);
  });

  it('yields to the event loop between handlers (timers and I/O run during a backlog)', async () => {
    const evs = Array.from({ length: 40 }, slowEvent);
    await Promise.all(evs.map((e) => t.rt.intake.receive(e)));
    // A timer set now must fire long before 40 × 10 ms of handlers are through.
    const startedWhenTimerFired = await new Promise<number>((r) => setTimeout(() => r(started.length), 0));
    expect(startedWhenTimerFired).toBeLessThan(10);
    await t.rt.idle();
    expect(started).toHaveLength(40);
  });

  it('runs a card callback ahead of a backlog (its answer is awaited within 3 s)', async () => {
    t.rt.cardActions.set('test_ping', () => {
      log.push('card');
      return { toast: { type: 'info', content: 'pong' } };
    });
    const backlog = Array.from({ length: 50 }, slowEvent);
    const card = envelope(cardActionEvent({ value: { action: 'test_ping' }, openId: 'ou_card_tester' }));
    const acks = backlog.map((e) => t.rt.intake.receive(e));
    const answer = t.rt.intake.receive(card);
    const r = await answer;
    expect(r).toEqual({ status: 'answered', body: { toast: { type: 'info', content: 'pong' } } });
    // Before: the 50 handlers ahead of it ran first (≥ 500 ms); now the card goes first.
    expect(started.length).toBeLessThanOrEqual(2);
    await Promise.all(acks);
    await t.rt.idle();
    expect(started).toHaveLength(50);
    expect(t.rt.repos.events.countByStatus()).toEqual({ done: 51 });
  });
});
