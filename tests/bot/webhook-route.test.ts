import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { fixture, messageEvent } from '../helpers/events.js';
import { larkEncrypt, larkRequest } from '../helpers/lark-sign.js';
import { startTestRuntime, TEST_ENCRYPT_KEY, TEST_VERIFICATION_TOKEN, type TestEnv } from '../helpers/test-runtime.js';

const NOW = Date.parse('2026-11-20T02:00:00Z');

describe('POST /lark/events', () => {
  let fake: FakeLark;
  let t: TestEnv;
  const clock = new ManualClock(NOW);

  beforeEach(async () => {
    clock.set(NOW);
    fake = await FakeLark.start();
    t = await startTestRuntime({ fake, clock });
  });
  afterEach(async () => {
    await t.close({ remove: true });
    await fake.close();
  });

  const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    t.app.inject({ method: 'POST', url: '/lark/events', payload: body, headers });

  describe('url_verification', () => {
    it('answers a plain, unsigned challenge', async () => {
      const r = await post(JSON.stringify(fixture('url_verification.json')));
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ challenge: 'c9e2f1a0-hj-challenge' });
    });

    it('answers an encrypted challenge in plaintext', async () => {
      const enc = larkEncrypt(TEST_ENCRYPT_KEY, JSON.stringify(fixture('url_verification.json')));
      const r = await post(JSON.stringify({ encrypt: enc }));
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ challenge: 'c9e2f1a0-hj-challenge' });
    });

    it('answers a signed, encrypted challenge too', async () => {
      const req = larkRequest(fixture('url_verification.json'), { encryptKey: TEST_ENCRYPT_KEY, encrypt: true, nowMs: NOW });
      const r = await post(req.body, req.headers);
      expect(r.json()).toEqual({ challenge: 'c9e2f1a0-hj-challenge' });
    });

    it('refuses a challenge with the wrong verification token', async () => {
      const r = await post(JSON.stringify({ ...fixture('url_verification.json'), token: 'someone-else' }));
      expect(r.statusCode).toBe(401);
    });
  });

  describe('refusals: 4xx and nothing dispatched or sent', () => {
    const signed = (payload: unknown, o: { nowMs?: number; key?: string } = {}) =>
      larkRequest(payload, { encryptKey: o.key ?? TEST_ENCRYPT_KEY, encrypt: true, nowMs: o.nowMs ?? NOW });

    async function expectNothingHappened() {
      await t.rt.idle();
      expect(t.rt.repos.events.countByStatus()).toEqual({});
      expect(t.rt.repos.outbox.maxId()).toBe(0);
      expect(fake.sent).toHaveLength(0);
    }

    it('bad signature', async () => {
      const req = signed(messageEvent({ text: '帮助' }));
      req.headers['x-lark-signature'] = 'f'.repeat(64);
      expect((await post(req.body, req.headers)).statusCode).toBe(401);
      await expectNothingHappened();
    });

    it('a body changed after signing', async () => {
      const req = signed(messageEvent({ text: '帮助' }));
      const tampered = req.body.replace('"}', 'x"}');
      expect((await post(tampered, req.headers)).statusCode).toBeGreaterThanOrEqual(400);
      await expectNothingHappened();
    });

    it('missing signature headers when an encrypt key is configured', async () => {
      const req = larkRequest(messageEvent({ text: '帮助' }), { encryptKey: TEST_ENCRYPT_KEY, encrypt: true, sign: false });
      expect((await post(req.body, req.headers)).statusCode).toBe(401);
      await expectNothingHappened();
    });

    it('a day-old timestamp, and one from the future', async () => {
      const old = signed(messageEvent({ text: '帮助' }), { nowMs: NOW - 24 * 3600_000 });
      expect((await post(old.body, old.headers)).statusCode).toBe(401);
      const future = signed(messageEvent({ text: '帮助' }), { nowMs: NOW + 6 * 60_000 });
      expect((await post(future.body, future.headers)).statusCode).toBe(401);
      await expectNothingHappened();
    });

    it('accepts a timestamp 4 minutes off (within the 5-minute window)', async () => {
      const req = signed(messageEvent({ text: '帮助' }), { nowMs: NOW - 4 * 60_000 });
      expect((await post(req.body, req.headers)).statusCode).toBe(200);
    });

    it('wrong verification token inside a correctly signed body', async () => {
      const req = signed(messageEvent({ text: '帮助', token: 'not-our-token' }));
      expect((await post(req.body, req.headers)).statusCode).toBe(401);
      await expectNothingHappened();
    });

    it('encrypted with another key', async () => {
      const req = signed(messageEvent({ text: '帮助' }), { key: 'another key' });
      // Signed with the other key too: the signature check fails first.
      expect((await post(req.body, req.headers)).statusCode).toBe(401);
      await expectNothingHappened();
    });

    it('malformed bodies: not JSON, not an object, invalid base64, not an event', async () => {
      for (const body of ['{"schema":"2.0",', 'null', '[1,2]', '"text"', '']) {
        const r = await post(body);
        expect(r.statusCode, body).toBeGreaterThanOrEqual(400);
        expect(r.statusCode, body).toBeLessThan(500);
      }
      const badB64 = larkRequest({}, { encryptKey: TEST_ENCRYPT_KEY });
      const body = JSON.stringify({ encrypt: '%%%not-base64%%%' });
      const h = larkRequest(JSON.parse(body), { encryptKey: TEST_ENCRYPT_KEY, nowMs: NOW }).headers;
      expect((await post(body, h)).statusCode).toBe(400);
      void badB64;
      const notEvent = signed({ schema: '2.0', header: { event_type: 'x' }, event: {} });
      expect((await post(notEvent.body, notEvent.headers)).statusCode).toBe(400);
      await expectNothingHappened();
    });

    it('a body over 1 MB', async () => {
      const big = messageEvent({ text: 'x'.repeat(1024 * 1024) });
      const req = signed(big);
      const r = await post(req.body, req.headers);
      expect(r.statusCode).toBe(413);
      await expectNothingHappened();
    });
  });

  it('acknowledges at once and handles after the answer', async () => {
    const req = larkRequest(messageEvent({ text: '帮助' }), { encryptKey: TEST_ENCRYPT_KEY, encrypt: true, nowMs: NOW });
    const r = await post(req.body, req.headers);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({});
    await t.rt.idle();
    expect(fake.sent).toHaveLength(1);
  });

  it('refuses every event when neither a token nor an encrypt key is configured', async () => {
    const bare = await startTestRuntime({ env: { LARK_VERIFICATION_TOKEN: '', LARK_ENCRYPT_KEY: '' } });
    try {
      const r = await bare.app.inject({ method: 'POST', url: '/lark/events', payload: JSON.stringify(messageEvent({ text: '帮助' })) });
      expect(r.statusCode).toBe(403);
    } finally {
      await bare.close({ remove: true });
    }
  });

  it('works with only a verification token (no encryption, no signature)', async () => {
    const plainOnly = await startTestRuntime({ fake, env: { LARK_ENCRYPT_KEY: '' } });
    try {
      const ok = await plainOnly.app.inject({ method: 'POST', url: '/lark/events', payload: JSON.stringify(messageEvent({ text: '帮助', token: TEST_VERIFICATION_TOKEN })) });
      expect(ok.statusCode).toBe(200);
      const bad = await plainOnly.app.inject({ method: 'POST', url: '/lark/events', payload: JSON.stringify(messageEvent({ text: '帮助', token: 'wrong' })) });
      expect(bad.statusCode).toBe(401);
      const enc = await plainOnly.app.inject({ method: 'POST', url: '/lark/events', payload: JSON.stringify({ encrypt: larkEncrypt('k', '{}') }) });
      expect(enc.statusCode).toBe(400);
      await plainOnly.rt.idle();
      expect(fake.sent).toHaveLength(1);
    } finally {
      await plainOnly.close({ remove: true });
    }
  });
});
