import { afterEach, describe, expect, it } from 'vitest';
import { isLoopback, METRICS_MESSAGES } from '../src/app.js';
import { TEST_METRICS_TOKEN } from './helpers/secrets.js';
import { startTestRuntime, type TestEnv } from './helpers/test-runtime.js';

/** Issue 16: /metrics is open to nobody by accident. */
describe('/metrics access', () => {
  let t: TestEnv | undefined;
  afterEach(async () => {
    await t?.close({ remove: true });
    t = undefined;
  });

  const PROM = /^# HELP /m;

  describe('with METRICS_TOKEN', () => {
    it('serves a scraper that sends the token, from any address', async () => {
      t = await startTestRuntime({ env: { METRICS_TOKEN: TEST_METRICS_TOKEN } });
      for (const remoteAddress of ['203.0.113.7', '127.0.0.1']) {
        const r = await t.app.inject({ url: '/metrics', remoteAddress, headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } });
        expect(r.statusCode).toBe(200);
        expect(r.headers['content-type']).toMatch(/^text\/plain/);
        expect(r.body).toMatch(PROM);
      }
      // The scheme is case-insensitive (RFC 6750).
      expect((await t.app.inject({ url: '/metrics', headers: { authorization: `bearer ${TEST_METRICS_TOKEN}` } })).statusCode).toBe(200);
    });

    it('answers 401 with a Chinese message and a challenge without the token — on loopback too', async () => {
      t = await startTestRuntime({ env: { METRICS_TOKEN: TEST_METRICS_TOKEN } });
      for (const remoteAddress of ['203.0.113.7', '127.0.0.1']) {
        const r = await t.app.inject({ url: '/metrics', remoteAddress });
        expect(r.statusCode).toBe(401);
        expect(r.headers['www-authenticate']).toBe('Bearer realm="metrics"');
        expect(r.json()).toEqual({ error: 'unauthorized', message: METRICS_MESSAGES.missing });
        expect(r.body).not.toMatch(PROM);
      }
    });

    it.each([
      ['a wrong token', `Bearer ${TEST_METRICS_TOKEN.slice(0, -1)}0`],
      ['the token with a prefix', `Bearer x${TEST_METRICS_TOKEN}`],
      ['a token of another length', 'Bearer abc'],
      ['basic auth', `Basic ${Buffer.from(`u:${TEST_METRICS_TOKEN}`).toString('base64')}`],
      ['the bare token', TEST_METRICS_TOKEN],
    ])('refuses %s', async (_what, authorization) => {
      t = await startTestRuntime({ env: { METRICS_TOKEN: TEST_METRICS_TOKEN } });
      const r = await t.app.inject({ url: '/metrics', headers: { authorization } });
      expect(r.statusCode).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Bearer realm="metrics"/);
      expect(r.json().message).toMatch(/令牌/);
      expect(r.body).not.toContain(TEST_METRICS_TOKEN);
      expect(r.body).not.toMatch(PROM);
    });
  });

  describe('without METRICS_TOKEN', () => {
    it('serves callers on this machine (IPv4, IPv6, IPv4-mapped)', async () => {
      t = await startTestRuntime();
      for (const remoteAddress of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
        const r = await t.app.inject({ url: '/metrics', remoteAddress });
        expect(r.statusCode, remoteAddress).toBe(200);
        expect(r.body).toMatch(PROM);
      }
    });

    it('answers 403 to any other address, saying to set METRICS_TOKEN', async () => {
      t = await startTestRuntime();
      for (const remoteAddress of ['203.0.113.7', '10.0.0.5', '::ffff:192.168.1.20', '2001:db8::1', '128.0.0.1']) {
        const r = await t.app.inject({ url: '/metrics', remoteAddress });
        expect(r.statusCode, remoteAddress).toBe(403);
        expect(r.json()).toEqual({ error: 'metrics_loopback_only', message: METRICS_MESSAGES.loopbackOnly });
        expect(r.json().message).toContain('METRICS_TOKEN');
      }
    });

    it('does not believe X-Forwarded-For, and refuses what a proxy on this host relays', async () => {
      t = await startTestRuntime();
      // A remote client claiming to be local.
      const forged = await t.app.inject({ url: '/metrics', remoteAddress: '203.0.113.7', headers: { 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1' } });
      expect(forged.statusCode).toBe(403);
      // nginx on the same machine: the peer is loopback, the request is someone else's.
      for (const headers of [{ 'x-forwarded-for': '203.0.113.7' }, { 'x-real-ip': '203.0.113.7' }, { forwarded: 'for=203.0.113.7' }]) {
        const r = await t.app.inject({ url: '/metrics', remoteAddress: '127.0.0.1', headers });
        expect(r.statusCode, JSON.stringify(headers)).toBe(403);
      }
    });

    it('logs refusals at most once a minute, with the address and no token', async () => {
      t = await startTestRuntime();
      for (let i = 0; i < 5; i++) await t.app.inject({ url: '/metrics', remoteAddress: '203.0.113.7' });
      const lines = t.logs.filter((l) => l.includes('/metrics 拒绝'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('203.0.113.7');
    });

    it('over a real socket, a local client is loopback', async () => {
      t = await startTestRuntime();
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = t.app.server.address() as { port: number };
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(r.status).toBe(200);
      expect(await r.text()).toMatch(PROM);
    });
  });

  it('knows loopback addresses', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.1']) expect(isLoopback(a), a).toBe(true);
    for (const a of [undefined, '', '0.0.0.0', '::', '10.0.0.1', '::ffff:10.0.0.1', '127.0.0.1.evil', '1127.0.0.1', 'fe80::1']) expect(isLoopback(a), String(a)).toBe(false);
  });
});
