import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { NOT_FOUND_MESSAGE } from '../../src/web/status-page.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { TEST_DASHBOARD_SECRET } from '../helpers/secrets.js';
import { onPostgres } from '../helpers/store.js';
import { startTestRuntime, TEST_APP_SECRET, TEST_ENCRYPT_KEY, TEST_VERIFICATION_TOKEN, type TestEnv } from '../helpers/test-runtime.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** Issue 16: `/` tells a visitor in Chinese what this service is and whether it is ready. */
describe('status page /', () => {
  let t: TestEnv | undefined;
  let fake: FakeLark | undefined;
  afterEach(async () => {
    await t?.close({ remove: true });
    await fake?.close();
    t = undefined;
    fake = undefined;
  });

  it('offline: name, version, mode, store, readiness in words and the console link', async () => {
    t = await startTestRuntime({ env: { DASHBOARD_SECRET: TEST_DASHBOARD_SECRET } });
    const r = await t.app.inject({ url: '/', headers: { accept: BROWSER } });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toContain("default-src 'none'");
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['x-frame-options']).toBe('DENY');
    const html = r.body;
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('换届助手');
    expect(html).toContain(`版本 ${VERSION}`);
    expect(html).toContain('离线模式');
    expect(html).toContain(onPostgres ? 'PostgreSQL' : 'SQLite');
    expect(html).toContain('就绪：可以正常使用');
    expect(html).toContain('href="/console"');
    expect(html).toContain('试用页面');
    expect(html).toContain('href="/healthz"');
    expect(html).toContain('href="/readyz"');
    expect(html).not.toMatch(/<script|\son[a-z]+=|style=/i); // nothing the CSP would block
    // No secrets, no paths, no open_ids.
    for (const s of [TEST_DASHBOARD_SECRET, TEST_ENCRYPT_KEY, TEST_VERIFICATION_TOKEN, t.dir, 'huanjie.db', 'ou_']) expect(html).not.toContain(s);
  });

  it('a plain client (curl) gets the page too; Accept: application/json gets JSON', async () => {
    t = await startTestRuntime();
    expect((await t.app.inject('/')).headers['content-type']).toContain('text/html');
    const r = await t.app.inject({ url: '/', headers: { accept: 'application/json' } });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('application/json');
    expect(r.headers.vary).toContain('accept');
    const j = r.json();
    expect(j).toMatchObject({
      name: '换届助手',
      version: VERSION,
      mode: 'offline',
      store: onPostgres ? 'postgres' : 'sqlite',
      ready: true,
      console: '/console',
      links: { healthz: '/healthz', readyz: '/readyz' },
    });
    expect(j.checks.map((c: { key: string }) => c.key)).toEqual(['database', 'started', 'library', 'storage']);
    expect(JSON.stringify(j)).not.toContain(t.dir);
  });

  it('says what is missing while the service is not ready, like /readyz', async () => {
    t = await startTestRuntime({ start: false });
    expect((await t.app.inject('/readyz')).statusCode).toBe(503);
    const r = await t.app.inject({ url: '/', headers: { accept: BROWSER } });
    expect(r.statusCode).toBe(200); // the page itself is up; /readyz is for probes
    expect(r.body).toContain('未就绪');
    expect(r.body).toContain('服务启动正在启动');
    expect((await t.app.inject({ url: '/', headers: { accept: 'application/json' } })).json().ready).toBe(false);
  });

  it('online (webhook): 已接入飞书, and no console link when the console is off', async () => {
    fake = await FakeLark.start();
    t = await startTestRuntime({ fake, env: { LARK_BOT_OPEN_ID: fake.botOpenId } });
    const r = await t.app.inject({ url: '/', headers: { accept: BROWSER } });
    expect(r.body).toContain('已接入飞书：Webhook');
    expect(r.body).not.toContain('/console');
    expect(r.body).not.toContain('试用页面');
    for (const s of [TEST_APP_SECRET, fake.botOpenId, fake.url]) expect(r.body).not.toContain(s);
    const j = (await t.app.inject({ url: '/', headers: { accept: 'application/json' } })).json();
    expect(j.mode).toBe('webhook');
    expect(j.console).toBeNull();
  });

  it('the long-connection mode is named as such', async () => {
    t = await startTestRuntime({ start: false, env: { LARK_APP_ID: 'cli_a1b2c3d4e5f60718', LARK_APP_SECRET: TEST_APP_SECRET, LARK_EVENT_MODE: 'ws', LARK_DOMAIN: 'http://127.0.0.1:9' } });
    const j = (await t.app.inject({ url: '/', headers: { accept: 'application/json' } })).json();
    expect(j.mode).toBe('ws');
    expect(j.modeText).toContain('长连接');
  });
});

describe('unknown addresses', () => {
  let t: TestEnv | undefined;
  afterEach(async () => {
    await t?.close({ remove: true });
    t = undefined;
  });

  it('answer a Chinese 404: JSON for clients, a page for browsers', async () => {
    t = await startTestRuntime();
    for (const url of ['/nope', '/admin', '/index.php', '/lark', '/dashboard/nope']) {
      const r = await t.app.inject(url);
      expect(r.statusCode, url).toBe(404);
      expect(r.json(), url).toEqual({ error: 'not_found', message: NOT_FOUND_MESSAGE });
    }
    expect((await t.app.inject({ method: 'POST', url: '/nope', payload: {} })).json().error).toBe('not_found');
    const page = await t.app.inject({ url: '/nope', headers: { accept: BROWSER } });
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('没有这个页面');
    expect(page.body).toContain('href="/"');
    expect(page.body).not.toMatch(/Not Found|Route GET/);
  });
});
