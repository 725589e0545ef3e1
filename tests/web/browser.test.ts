import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { createWorkflowRepos } from '../../src/store/workflow-repos.js';
import { loadExcelJS } from '../../src/workflow/excel.js';
import { loadPrincipal } from '../../src/workflow/permissions.js';
import { dashboardLink } from '../../src/web/dashboard-token.js';
import { seedCampaign } from '../helpers/roster.js';
import { startTestRuntime, type TestEnv } from '../helpers/test-runtime.js';
import { consoleLinkToken } from './console-session.js';
import { alterPayload, DASHBOARD_SECRET, distinctCampaign, expectedCompletion, WEB_NOW } from './fixtures.js';

/**
 * The pages in a real browser: playwright-core driving Debian's chromium
 * (`apt-get install -y chromium`, done by .ci/run) against the service on a
 * real port, at a phone's width. Screenshots go to test-artifacts/.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

if (!HAVE_CHROMIUM && process.env.CI) {
  // .ci/run installs chromium: a CI run without it must not pass silently.
  throw new Error(`browser tests need ${CHROMIUM} (apt-get install -y chromium)`);
}
if (!HAVE_CHROMIUM) {
  // eslint-disable-next-line no-console
  console.warn(`browser tests skipped: ${CHROMIUM} not found (install it with: apt-get install -y chromium)`);
}

type Pw = typeof import('playwright-core');
type Browser = Awaited<ReturnType<Pw['chromium']['launch']>>;
type BrowserContext = Awaited<ReturnType<Browser['newContext']>>;

describe.skipIf(!HAVE_CHROMIUM)('web pages in chromium (390 px wide)', () => {
  let t: TestEnv;
  let browser: Browser;
  let base: string;
  const campaign = distinctCampaign();
  const [ownTownship, otherTownship] = campaign.townships as [string, string];
  const cadre = campaign.people.find((p) => p.openId === campaign.ids.cadres[0]![0])!;
  const external: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await startTestRuntime({ ingest: true, clock: new ManualClock(WEB_NOW), env: { DASHBOARD_SECRET } });
    seedCampaign(t.rt.db, campaign);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const pw: Pw = await import('playwright-core');
    browser = await pw.chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close({ remove: true });
  });

  async function phone(): Promise<BrowserContext> {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' });
    // The network is closed, and the pages must not need it: everything comes from our server.
    await ctx.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(base) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      external.push(url);
      return route.abort();
    });
    return ctx;
  }

  it('console: a policy question is answered with its 依据; a check-in by command and one by the reminder card show in 进度', async () => {
    const ctx = await phone();
    // Real data is imported: the console is locked (issue 14) until a one-time link is opened.
    // (its own tab: the deliberate 401 shows in the browser's console, which the main tab checks stays clean)
    const signin = await ctx.newPage();
    const locked = await signin.goto(`${base}/console?as=${cadre.openId}`);
    expect(locked?.status()).toBe(401);
    expect(await signin.locator('body').textContent()).toContain('npm run cli -- console link');
    for (const p of campaign.people) expect(await signin.locator('body').textContent()).not.toContain(p.name);
    await signin.screenshot({ path: join(ARTIFACTS, 'console-locked.png') });
    await signin.goto(`${base}/console/login?t=${consoleLinkToken(t.rt.db, t.rt.clock.now())}`);
    // The sign-in page moves on to /console by itself, and the Strict cookie goes with it.
    await signin.waitForURL(`${base}/console`);
    await signin.locator('#person option').first().waitFor({ state: 'attached' });
    const [cookie] = await ctx.cookies(base + '/console');
    expect(cookie).toMatchObject({ name: 'hj_console', path: '/console', httpOnly: true, sameSite: 'Strict', secure: false });
    await signin.close();
    const page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(`${base}/console?as=${cadre.openId}`);
    await expect.poll(() => page.locator('#persona').textContent()).toContain(cadre.name);
    expect(await page.locator('#mode-banner').textContent()).toContain('不会发往飞书');

    // A policy question: the answer card cites the article.
    await page.fill('#text', '选民名单要提前多少天公布？');
    await page.press('#text', 'Enter');
    const answer = page.locator('.msg.bot .card', { hasText: '政策问答' }).last();
    await answer.waitFor();
    const answerText = (await answer.textContent()) ?? '';
    expect(answerText).toContain('依据');
    expect(answerText).toMatch(/《[^》]+》/);
    expect(answerText).toContain('二十日');
    await page.screenshot({ path: join(ARTIFACTS, 'console-answer.png'), fullPage: true });
    await answer.screenshot({ path: join(ARTIFACTS, 'console-answer-card.png') });

    // A check-in typed as a command.
    await page.fill('#text', '完成 城西村 审计');
    await page.press('#text', 'Enter');
    await page.locator('.msg.bot', { hasText: '已登记' }).first().waitFor();

    // A check-in through the reminder card's buttons: 已完成 → the form (village, stage, status filled in) → 提交.
    await page.getByRole('button', { name: '今日提醒（预演）' }).click();
    const reminder = page.locator('.msg.bot', { hasText: '换届工作提醒' }).last();
    await reminder.waitFor();
    await reminder.locator(`xpath=.//div[contains(@class,'md')][contains(., '摸底研判')]/following-sibling::div[contains(@class,'cols')][1]//button[normalize-space(.)='已完成']`).click();
    const form = page.locator('.msg.bot', { hasText: '提交进度' }).last();
    await form.waitFor();
    await reminder.screenshot({ path: join(ARTIFACTS, 'console-reminder-card.png') });
    await form.screenshot({ path: join(ARTIFACTS, 'console-checkin-form.png') });
    await form.getByRole('button', { name: '提交' }).click();
    await expect.poll(() => page.locator('#toast').textContent()).toContain('已登记');
    await page.locator('.msg.bot', { hasText: '摸底研判' }).filter({ hasText: '已登记' }).first().waitFor();

    // Both are in the database, and 进度 shows them.
    const roster = createWorkflowRepos(t.rt.db).roster;
    const village = roster.villages().find((v) => v.name === '城西村' && v.township === ownTownship)!;
    const rows = t.rt.db.prepare(`SELECT stage_key, status, updated_by FROM wf_stage_progress WHERE village_id = ? ORDER BY stage_key`).all(village.id);
    expect(rows).toEqual([
      { stage_key: 'audit', status: '已完成', updated_by: cadre.openId },
      { stage_key: 'survey', status: '已完成', updated_by: cadre.openId },
    ]);
    await page.fill('#text', '进度 城西村');
    await page.press('#text', 'Enter');
    const progress = page.locator('.msg.bot .card', { hasText: '城西村' }).filter({ hasText: '摸底研判' }).last();
    await progress.waitFor();
    const progressText = (await progress.textContent()) ?? '';
    expect(progressText).toMatch(/审计[^\n]*已完成|已完成[^\n]*审计/);
    await progress.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'console-progress.png'), fullPage: true });
    await page.screenshot({ path: join(ARTIFACTS, 'console-progress-viewport.png') });
    expect(pageErrors).toEqual([]);
    await ctx.close();
  }, 60_000);

  it('dashboard: a valid link shows the township’s numbers (as in the database) and nothing of another township; an altered link is refused', async () => {
    const db = t.rt.db;
    const roster = createWorkflowRepos(db).roster;
    const leaderId = campaign.ids.townshipLeaders[0]!;
    const leader = loadPrincipal(roster, t.rt.actorResolver(leaderId));
    const url = dashboardLink({ dashboardSecret: DASHBOARD_SECRET, publicBaseUrl: base }, leader, t.rt.clock.now())!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dashboard\?t=/);

    const ctx = await phone();
    const page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    const res = await page.goto(url);
    expect(res?.status()).toBe(200);
    await page.waitForSelector('body[data-charts][data-drawn]');
    const expected = expectedCompletion(db, ownTownship);
    const tiles = (await page.locator('#tiles').textContent()) ?? '';
    expect(tiles).toContain(`${expected.done} / ${expected.total}`);
    expect(await page.locator('.tile', { hasText: '村(社区)' }).first().locator('.v').textContent()).toBe(String(expected.villages));
    const body = (await page.locator('body').textContent()) ?? '';
    expect(body).toContain(ownTownship);
    // Every village of the township is overdue on day 2026-11-20 (nothing done but 审计 and 摸底研判 in one): all are listed.
    for (const v of campaign.villages.filter((x) => x.township === ownTownship)) expect(await page.locator('#overdue').textContent()).toContain(v.name);
    for (const v of campaign.villages.filter((x) => x.township === otherTownship)) expect(body).not.toContain(v.name);
    expect(Number(await page.getAttribute('body', 'data-charts'))).toBeGreaterThanOrEqual(4);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-viewport.png') });
    const panels = page.locator('main > section:not([hidden])');
    for (let i = 0; i < (await panels.count()); i++) await panels.nth(i).screenshot({ path: join(ARTIFACTS, `dashboard-part-${String(i).padStart(2, '0')}.png`) });

    // The same link with its payload altered (another scope): 403, a reason, no data.
    const token = new URL(url).searchParams.get('t')!;
    const altered = `${base}/dashboard?t=${encodeURIComponent(alterPayload(token))}`;
    const bad = await page.goto(altered);
    expect(bad?.status()).toBe(403);
    const refused = (await page.locator('body').textContent()) ?? '';
    expect(refused).toContain('签名校验未通过');
    for (const v of campaign.villages) expect(refused).not.toContain(v.name);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-refused.png') });
    expect(pageErrors).toEqual([]);
    await ctx.close();
  }, 60_000);

  it('a fresh install (no roster): the console shows the 演示数据 and a leader persona opens the demo dashboard', async () => {
    const fresh = await startTestRuntime({ ingest: true, clock: new ManualClock(WEB_NOW) });
    try {
      await fresh.app.listen({ port: 0, host: '127.0.0.1' });
      const freshBase = `http://127.0.0.1:${(fresh.app.server.address() as AddressInfo).port}`;
      const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' });
      await ctx.route('**/*', (route) => (route.request().url().startsWith(freshBase) ? route.continue() : (external.push(route.request().url()), route.abort())));
      const page = await ctx.newPage();
      page.on('pageerror', (e) => pageErrors.push(String(e)));
      await page.goto(`${freshBase}/console`);
      await page.locator('#demo-banner:not([hidden])').waitFor();
      expect(await page.locator('#demo-banner').textContent()).toContain('演示数据');
      await page.selectOption('#person', 'ou_demo_leader_t0');
      await expect.poll(() => page.locator('#persona').textContent()).toContain('吴书记');
      await page.fill('#text', '我的');
      await page.press('#text', 'Enter');
      await page.locator('.msg.bot .card').last().waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'demo-console.png') });
      const [dash] = await Promise.all([ctx.waitForEvent('page'), page.getByRole('button', { name: '领导看板' }).click()]);
      await dash.waitForSelector('body[data-charts][data-drawn]');
      const text = (await dash.locator('body').textContent()) ?? '';
      expect(text).toContain('演示数据');
      expect(text).toContain('东城镇');
      expect(text).not.toContain('前进村'); // a village of the other demo township
      await dash.screenshot({ path: join(ARTIFACTS, 'demo-dashboard.png') });
      // 导出 in the console is a download of the printable workbook (the console gets no Lark file messages).
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '下载进度表' }).click()]);
      expect(download.suggestedFilename()).toMatch(/\.xlsx$/);
      const saved = join(ARTIFACTS, 'demo-export.xlsx');
      await download.saveAs(saved);
      const wb = new (await loadExcelJS()).Workbook();
      await wb.xlsx.readFile(saved);
      expect(wb.worksheets.map((w) => w.name)).toContain('进度一览');
      expect(String(wb.worksheets[0]!.getCell('A1').value)).toContain('换届');
      await ctx.close();
    } finally {
      await fresh.close({ remove: true });
    }
  }, 60_000);

  it('loads nothing from outside the server', () => {
    expect(external).toEqual([]);
  });
});
