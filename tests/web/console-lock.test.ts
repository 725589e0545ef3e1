import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { createConsoleAuth, LINK_TTL_MS, SESSION_TTL_MS } from '../../src/web/console-auth.js';
import { ConsoleGate, registerConsoleGuard } from '../../src/web/console-auth-guard.js';
import { seedCampaign } from '../helpers/roster.js';
import { runTs } from '../helpers/spawn.js';
import { openTestDb } from '../helpers/store.js';
import { startTestRuntime, type TestEnv } from '../helpers/test-runtime.js';
import { consoleLinkToken, cookieOf } from './console-session.js';
import { distinctCampaign, WEB_NOW } from './fixtures.js';
import { join } from 'node:path';

/**
 * Issue 14: the trial console is open on demo data and locked once real data
 * exists; a one-time link from `npm run cli -- console link` opens a session.
 */
const LOCKED = '试用页面已锁定';
const campaign = distinctCampaign();
const cadre = campaign.ids.cadres[0]![0]!;
const names = campaign.people.map((p) => p.name);

describe('console lock', () => {
  let t: TestEnv | undefined;
  afterEach(async () => {
    await t?.close({ remove: true });
    t = undefined;
  });

  const count = (table: string) => (t!.rt.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  const audit = (action: string) => t!.rt.db.prepare(`SELECT actor, target, detail FROM audit_log WHERE action = ? ORDER BY id`).all(action) as { actor: string; target: string; detail: string }[];

  it('stays open on the demo data, with no sign-in', async () => {
    t = await startTestRuntime({ clock: new ManualClock(WEB_NOW) });
    expect((await t.app.inject('/console')).statusCode).toBe(200);
    const state = await t.app.inject('/console/api/state');
    expect(state.statusCode).toBe(200);
    expect((state.json() as { demo: boolean }).demo).toBe(true);
    const sent = await t.app.inject({ method: 'POST', url: '/console/api/send', payload: { openId: 'ou_demo_cadre_t0_v0', text: '帮助' } });
    expect(sent.statusCode).toBe(200);
  });

  it('after a real import: 401 page and JSON without a session, no data and no change; a link signs in once', async () => {
    const clock = new ManualClock(WEB_NOW);
    t = await startTestRuntime({ clock });
    seedCampaign(t.rt.db, campaign);

    const page = await t.app.inject('/console');
    expect(page.statusCode).toBe(401);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain(LOCKED);
    expect(page.body).toContain('npm run cli -- console link');
    const refusals = [
      await t.app.inject('/console/api/state'),
      await t.app.inject(`/console/api/messages?openId=${cadre}`),
      await t.app.inject(`/console/api/reminders?openId=${cadre}`),
      await t.app.inject(`/console/api/dashboard-link?openId=${campaign.ids.countyLeader}`),
      await t.app.inject(`/console/api/export?as=${campaign.ids.countyLeader}`),
      await t.app.inject({ method: 'POST', url: '/console/api/send', payload: { openId: cadre, text: '完成 城西村 审计' } }),
      await t.app.inject({ method: 'POST', url: '/console/api/press', payload: { openId: cadre, value: { action: 'reminder_done', item: 'stage:1:audit' } } }),
    ];
    for (const r of refusals) {
      expect(r.statusCode).toBe(401);
      expect(r.json()).toEqual({ error: 'console_locked', message: expect.stringContaining(LOCKED) });
    }
    // Unknown paths under /console, and the router's percent-decoding, give nothing either.
    expect((await t.app.inject('/console/whatever')).statusCode).toBe(401);
    const encoded = await t.app.inject('/%63onsole/api/state');
    expect([401, 404]).toContain(encoded.statusCode);
    for (const r of [page, ...refusals, encoded]) for (const n of [...names, cadre]) expect(r.body).not.toContain(n);
    expect(count('received_events')).toBe(0);
    expect(count('outbox')).toBe(0);
    expect(count('wf_stage_progress')).toBe(0);

    // The link: cookie attributes, then the console opens with it, on the real data.
    const token = consoleLinkToken(t.rt.db, clock.now());
    const login = await t.app.inject(`/console/login?t=${token}`);
    expect(login.statusCode).toBe(200);
    expect(login.body).toContain('<meta http-equiv="refresh" content="0; url=/console">');
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/^hj_console=[A-Za-z0-9_-]{43}; /);
    const attrs = setCookie.split(';').slice(1).map((a) => a.trim());
    expect(attrs).toEqual(expect.arrayContaining(['Path=/console', 'HttpOnly', 'SameSite=Strict', `Max-Age=${SESSION_TTL_MS / 1000}`]));
    expect(attrs).not.toContain('Secure'); // plain http, no https PUBLIC_BASE_URL
    const cookie = cookieOf(login);
    const state = await t.app.inject({ url: '/console/api/state', headers: { cookie } });
    expect(state.statusCode).toBe(200);
    const s = state.json() as { demo: boolean; people: { openId: string }[] };
    expect(s.demo).toBe(false);
    expect(s.people.map((p) => p.openId)).toContain(cadre);
    expect((await t.app.inject({ url: '/console', headers: { cookie } })).statusCode).toBe(200);
    const exported = await t.app.inject({ url: `/console/api/export?as=${campaign.ids.countyLeader}`, headers: { cookie } });
    expect(exported.statusCode).toBe(200);
    expect(exported.headers['content-type']).toContain('spreadsheetml');
    const sent = await t.app.inject({ method: 'POST', url: '/console/api/send', headers: { cookie }, payload: { openId: cadre, text: '完成 城西村 审计' } });
    expect(sent.statusCode).toBe(200);
    expect(count('wf_stage_progress')).toBe(1);
    // Another browser's cookie header with other cookies around ours still works.
    expect((await t.app.inject({ url: '/console/api/state', headers: { cookie: `a=1; ${cookie}; b=2` } })).statusCode).toBe(200);

    // Second use of the same link: refused, said so, no cookie.
    const again = await t.app.inject(`/console/login?t=${token}`);
    expect(again.statusCode).toBe(401);
    expect(again.body).toContain('已经使用过');
    expect(again.headers['set-cookie']).toBeUndefined();

    // Audited: the sign-in and the refused reuse; the database holds hashes only.
    expect(audit('console.login')).toEqual([{ actor: 'console', target: expect.stringMatching(/^console_session:\d+$/), detail: expect.stringContaining('ip ') }]);
    expect(audit('console.login_refused')).toEqual([{ actor: 'console', target: expect.stringMatching(/^console_link:\d+$/), detail: expect.stringContaining('used') }]);
    const sessionToken = cookie.split('=')[1]!;
    const sha = (x: string) => createHash('sha256').update(x).digest('hex');
    expect(t.rt.db.prepare('SELECT token_hash FROM console_login_links').all()).toEqual([{ token_hash: sha(token) }]);
    expect(t.rt.db.prepare('SELECT token_hash FROM console_sessions').all()).toEqual([{ token_hash: sha(sessionToken) }]);

    // The session ends after 12 hours.
    clock.advance(SESSION_TTL_MS - 1000);
    expect((await t.app.inject({ url: '/console/api/state', headers: { cookie } })).statusCode).toBe(200);
    clock.advance(1000);
    const ended = await t.app.inject({ url: '/console/api/state', headers: { cookie } });
    expect(ended.statusCode).toBe(401);
  });

  it('a link expires after 10 minutes (injected clock); garbage, forged and wrong-kind cookies are refused', async () => {
    const clock = new ManualClock(WEB_NOW);
    t = await startTestRuntime({ clock });
    seedCampaign(t.rt.db, campaign);

    const late = consoleLinkToken(t.rt.db, clock.now());
    const inTime = consoleLinkToken(t.rt.db, clock.now());
    clock.advance(LINK_TTL_MS - 1);
    expect((await t.app.inject(`/console/login?t=${inTime}`)).statusCode).toBe(200);
    clock.advance(1);
    const expired = await t.app.inject(`/console/login?t=${late}`);
    expect(expired.statusCode).toBe(401);
    expect(expired.body).toContain('已过期');
    expect(expired.headers['set-cookie']).toBeUndefined();
    // ... and stays expired, not "used", however often it is tried.
    expect((await t.app.inject(`/console/login?t=${late}`)).body).toContain('已过期');

    for (const bad of ['', 'garbage', 'x'.repeat(43), late.slice(0, -1), `${late}x`]) {
      const r = await t.app.inject(`/console/login?t=${encodeURIComponent(bad)}`);
      expect(r.statusCode, bad).toBe(401);
      expect(r.body).toContain('登录链接无效');
    }
    expect((await t.app.inject('/console/login')).statusCode).toBe(401);

    const forged = createHash('sha256').update('forged').digest('base64url').slice(0, 43);
    for (const cookie of ['hj_console=garbage', `hj_console=${forged}`, `hj_console=${late}`, `hj_console=${inTime}`, 'hj_console=', `other=${forged}`]) {
      const r = await t.app.inject({ url: '/console/api/state', headers: { cookie } });
      expect(r.statusCode, cookie).toBe(401);
      for (const n of names) expect(r.body).not.toContain(n);
    }
    // A session's stored hash is not a session either.
    const hash = (t.rt.db.prepare('SELECT token_hash FROM console_sessions').get() as { token_hash: string }).token_hash;
    expect((await t.app.inject({ url: '/console/api/state', headers: { cookie: `hj_console=${hash}` } })).statusCode).toBe(401);
  });

  it('a link is used once across connections to the same database (another instance, or the CLI)', async () => {
    t = await startTestRuntime();
    seedCampaign(t.rt.db, campaign);
    const token = consoleLinkToken(t.rt.db, Date.now());
    const other = openTestDb(join(t.dir, 'huanjie.db'));
    try {
      expect(createConsoleAuth(other).redeemLink(token, Date.now(), 'other instance')).toMatchObject({ ok: true });
    } finally {
      other.close();
    }
    const r = await t.app.inject(`/console/login?t=${token}`);
    expect(r.statusCode).toBe(401);
    expect(r.body).toContain('已经使用过');
  });

  it('Secure is set when PUBLIC_BASE_URL is https', async () => {
    t = await startTestRuntime({ env: { PUBLIC_BASE_URL: 'https://huanjie.example.cn' } });
    seedCampaign(t.rt.db, campaign);
    const login = await t.app.inject(`/console/login?t=${consoleLinkToken(t.rt.db, Date.now())}`);
    expect(login.statusCode).toBe(200);
    expect(String(login.headers['set-cookie']).split(';').map((a) => a.trim())).toContain('Secure');
  });

  it('covers any /console route registered in the app, wherever it is registered', async () => {
    t = await startTestRuntime();
    seedCampaign(t.rt.db, campaign);
    const app = Fastify();
    registerConsoleGuard(app, new ConsoleGate(t.rt));
    await app.register(async (child) => {
      child.get('/console/export', async () => ({ secret: campaign.people[0]!.name }));
      child.get('/elsewhere', async () => ({ ok: true }));
    }, { prefix: '' });
    await app.ready();
    try {
      const r = await app.inject('/console/export');
      expect(r.statusCode).toBe(401);
      expect(r.body).toContain(LOCKED);
      expect(r.body).not.toContain(campaign.people[0]!.name);
      expect((await app.inject('/elsewhere')).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('npm run cli -- console link prints a link the running service accepts, once; audited', async () => {
    t = await startTestRuntime();
    seedCampaign(t.rt.db, campaign);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.server.address() as AddressInfo).port;
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/console/api/state`)).status).toBe(401);

    const cli = await runTs('src/cli/main.ts', ['console', 'link'], { env: { DATA_DIR: t.dir, PORT: String(port) } });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('只能使用一次');
    const url = /^(http:\/\/\S+)$/m.exec(cli.stdout)?.[1];
    expect(url).toMatch(new RegExp(`^${base}/console/login\\?t=[A-Za-z0-9_-]{43}$`));

    const login = await fetch(url!, { redirect: 'manual' });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const state = await fetch(`${base}/console/api/state`, { headers: { cookie } });
    expect(state.status).toBe(200);
    expect(((await state.json()) as { demo: boolean }).demo).toBe(false);
    expect((await fetch(url!, { redirect: 'manual' })).status).toBe(401);
    expect(audit('console.link_created')).toEqual([{ actor: expect.stringMatching(/^cli:/), target: expect.stringMatching(/^console_link:\d+$/), detail: expect.stringContaining('expires') }]);

    // With PUBLIC_BASE_URL the link points there.
    const pub = await runTs('src/cli/main.ts', ['console', 'link'], { env: { DATA_DIR: t.dir, PUBLIC_BASE_URL: 'https://huanjie.example.cn/' } });
    expect(pub.code, pub.stderr).toBe(0);
    expect(pub.stdout).toMatch(/^https:\/\/huanjie\.example\.cn\/console\/login\?t=[A-Za-z0-9_-]{43}$/m);
  }, 120_000);
});
