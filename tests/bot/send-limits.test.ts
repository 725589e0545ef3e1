import { afterEach, describe, expect, it } from 'vitest';
import { FakeLark } from '../helpers/fake-lark.js';
import { startTestRuntime, waitFor, type TestEnv } from '../helpers/test-runtime.js';

/** Lark: 5 messages/s to one user or chat, 50/s per app. Checked at the fake, by arrival time. */
function maxInWindow(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('send limits against the fake Open Platform', () => {
  let fake: FakeLark;
  let t: TestEnv;
  afterEach(async () => {
    await t.close({ remove: true });
    await fake.close();
  });

  it('sends 12 messages to one person at no more than 5 per second, in order', async () => {
    fake = await FakeLark.start();
    t = await startTestRuntime({ fake });
    for (let i = 0; i < 12; i++) {
      t.rt.outbox.enqueue({ intent: `test:burst:${i}`, to: { type: 'open_id', id: 'ou_one' }, msgType: 'text', content: { text: `第${i}条` } });
    }
    await waitFor(() => fake.sent.length === 12, 10_000, '12 messages');
    expect(maxInWindow(fake.sent.map((m) => m.at), 1000)).toBeLessThanOrEqual(5);
    expect(fake.sent.map((m) => m.content.text)).toEqual(Array.from({ length: 12 }, (_, i) => `第${i}条`));
  });

  it('sends 120 messages to 120 people at no more than 50 per second', async () => {
    fake = await FakeLark.start();
    t = await startTestRuntime({ fake });
    for (let i = 0; i < 120; i++) {
      t.rt.outbox.enqueue({ intent: `test:fan:${i}`, to: { type: 'open_id', id: `ou_${i}` }, msgType: 'text', content: { text: 'x' } });
    }
    await waitFor(() => fake.sent.length === 120, 10_000, '120 messages');
    expect(maxInWindow(fake.sent.map((m) => m.at), 1000)).toBeLessThanOrEqual(50);
    expect(new Set(fake.sent.map((m) => m.receive_id)).size).toBe(120);
  });
});
