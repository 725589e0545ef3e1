import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { messageEvent } from '../helpers/events.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { larkRequest } from '../helpers/lark-sign.js';
import { startTestRuntime, TEST_ENCRYPT_KEY, TEST_VERIFICATION_TOKEN, waitFor, type TestEnv } from '../helpers/test-runtime.js';

/** The inbox keeps each event for crash recovery; the verification token in it is a secret (issue 8). */
describe('inbox rows', () => {
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

  it('are stored without the verification token, and still handled (and replayable) from what is stored', async () => {
    const payload = messageEvent({ text: '帮助', token: TEST_VERIFICATION_TOKEN });
    const req = larkRequest(payload, { encryptKey: TEST_ENCRYPT_KEY, encrypt: true });
    const res = await t.app.inject({ method: 'POST', url: '/lark/events', payload: req.body, headers: req.headers });
    expect(res.statusCode).toBe(200);
    await waitFor(() => fake.sent.length === 1, 10_000, 'the reply');
    const rows = t.rt.db.prepare('SELECT payload FROM received_events').all() as { payload: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]!.payload).not.toContain(TEST_VERIFICATION_TOKEN);
    expect(JSON.parse(rows[0]!.payload).header.event_id).toBe(payload.header.event_id);
  });
});
