import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeLark } from '../helpers/fake-lark.js';
import { startTestRuntime, waitFor, type TestEnv } from '../helpers/test-runtime.js';
import { addFailTrigger, dropFailTrigger } from '../helpers/fail-trigger.js';

/**
 * Found by the disk-full attack (tests/faults/operations.fault.ts): a message
 * went out, then marking it sent failed (the disk was full); the error escaped
 * as an unhandled rejection and the process died. Now the result is written
 * later, and the message is not sent again.
 */
describe('outbox: a send whose result cannot be written', () => {
  let fake: FakeLark;
  let t: TestEnv;
  beforeEach(async () => {
    fake = await FakeLark.start();
    t = await startTestRuntime({ fake });
  });
  afterEach(async () => {
    await t.close({ remove: true });
    await fake.close();
  });

  it('keeps the process up, records the result once the database takes writes again, and sends only once', async () => {
    // Any failure to write the result will do; a trigger is the store refusing exactly that update.
    addFailTrigger(t.rt.db, 'test_no_sent', 'UPDATE OF status ON outbox', 'database or disk is full', "NEW.status = 'sent'");
    const row = t.rt.outbox.enqueue({ intent: 'test:unrecorded', to: { type: 'open_id', id: 'ou_someone' }, msgType: 'text', content: { text: '你好' } });
    await waitFor(() => fake.sent.length === 1, 5000, 'the send');
    await new Promise((r) => setTimeout(r, 300));
    const status = () => (t.rt.db.prepare('SELECT status FROM outbox WHERE id = ?').get(row.id) as { status: string }).status;
    expect(status()).toBe('sending');

    dropFailTrigger(t.rt.db, 'test_no_sent', 'UPDATE OF status ON outbox');
    await waitFor(() => status() === 'sent', 5000, 'the result to be written');
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.requests).toHaveLength(1);
    expect(fake.sent).toHaveLength(1);
  });
});
