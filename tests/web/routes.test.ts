import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { createWorkflowRepos } from '../../src/store/workflow-repos.js';
import { loadPrincipal } from '../../src/workflow/permissions.js';
import { signDashboardToken } from '../../src/web/dashboard-token.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { seedCampaign } from '../helpers/roster.js';
import { startTestRuntime, type TestEnv } from '../helpers/test-runtime.js';
import { onPostgres } from '../helpers/store.js';
import { demoSchema } from '../../src/web/demo.js';
import { signedInInject } from './console-session.js';
import { alterPayload, DASHBOARD_SECRET, distinctCampaign, expectedCompletion, townshipId, villagesOf, WEB_NOW } from './fixtures.js';

type Msg = { id: number | string; kind: string; html: string; text: string };
type Sent = { messages: Msg[]; last: number };

describe('console routes', () => {
  let t: TestEnv | undefined;
  let fake: FakeLark | undefined;
  afterEach(async () => {
    await t?.close({ remove: true });
    await fake?.close();
    t = undefined;
    fake = undefined;
  });

  it('are off when Lark credentials are set, and on in offline mode', async () => {
    fake = await FakeLark.start();
    t = await startTestRuntime({ fake, env: { LARK_BOT_OPEN_ID: fake.botOpenId } });
    for (const url of ['/console', '/console/api/state', '/console/api/messages?openId=ou_x']) expect((await t.app.inject(url)).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'POST', url: '/console/api/send', payload: { openId: 'ou_x', text: '帮助' } })).statusCode).toBe(404);
    await t.close({ remove: true });

    t = await startTestRuntime();
    const page = await t.app.inject('/console');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('离线试用');
    expect(page.body).not.toMatch(/<script>|\son[a-z]+=/i); // no inline script or handler: the CSP would block it anyway
  });

  it('when explicitly enabled online: a warning on the page and in the log; buttons and messages work, and nothing reaches Lark', async () => {
    fake = await FakeLark.start();
    t = await startTestRuntime({ fake, env: { LARK_BOT_OPEN_ID: fake.botOpenId, CONSOLE_ENABLED: 'true' } });
    seedCampaign(t.rt.db, distinctCampaign());
    // Real data: the console needs a sign-in (issue 14).
    const inject = await signedInInject(t.app, t.rt.db, t.rt.clock.now());
    const page = await inject('/console');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('在线模式下开启了试用页面');
    expect(t.logs.some((l) => l.includes('"level":40') && l.includes('CONSOLE_ENABLED=true'))).toBe(true);
    // 已完成 answers the person by open_id; from the console that message stays local.
    const r = await inject({ method: 'POST', url: '/console/api/press', payload: { openId: 'ou_cadre_t0_v0', value: { action: 'reminder_done', item: 'stage:1:audit' } } });
    expect(r.statusCode).toBe(200);
    await t.rt.idle();
    expect(t.rt.repos.outbox.listSince(0).every((o) => o.receive_id.startsWith('local:') && o.status === 'offline')).toBe(true);
    // A typed message still works: its replies go to the local chat, never to Lark.
    const s = await inject({ method: 'POST', url: '/console/api/send', payload: { openId: 'ou_cadre_t0_v0', text: '帮助' } });
    expect((s.json() as Sent).messages.length).toBeGreaterThan(0);
    await t.rt.idle();
    expect(fake.sent).toEqual([]);
  });

  it('round trip: persons, a message and its replies as HTML, a button press with its toast, a form submit that records the check-in', async () => {
    t = await startTestRuntime({ clock: new ManualClock(WEB_NOW) });
    const campaign = distinctCampaign();
    seedCampaign(t.rt.db, campaign);
    // Real data: the console needs a sign-in (issue 14).
    const inject = await signedInInject(t.app, t.rt.db, t.rt.clock.now());
    const cadre = campaign.ids.cadres[0]![0]!;

    const state = (await inject('/console/api/state')).json() as { demo: boolean; people: { openId: string; name: string; role: string | null; leader: boolean }[]; last: number };
    expect(state.demo).toBe(false);
    expect(state.people.map((p) => p.openId).sort()).toEqual([...campaign.people.map((p) => p.openId), 'ou_local_console'].sort());
    expect(state.people.find((p) => p.openId === campaign.ids.townshipLeaders[0])!.leader).toBe(true);
    expect(state.people.find((p) => p.openId === cadre)!.leader).toBe(false);

    // A command: the reply is a card rendered as HTML, plus its text.
    const sent = (await inject({ method: 'POST', url: '/console/api/send', payload: { openId: cadre, text: '进度 城西村', after: state.last } })).json() as Sent;
    expect(sent.messages).toHaveLength(1);
    expect(sent.messages[0]!.kind).toBe('interactive');
    expect(sent.messages[0]!.html).toMatch(/^<div class="card">/);
    expect(sent.messages[0]!.text).toContain('城西村');
    expect(sent.last).toBeGreaterThan(state.last);
    // Nothing new after `last`.
    expect(((await inject(`/console/api/messages?openId=${cadre}&after=${sent.last}`)).json() as Sent).messages).toEqual([]);
    // Other people's sessions are not shown.
    expect(((await inject(`/console/api/messages?openId=${campaign.ids.cadres[0]![1]}&after=0`)).json() as Sent).messages).toEqual([]);

    // The reminder preview has working buttons: 延后 answers with a toast, 已完成 with the check-in form.
    const rem = (await inject(`/console/api/reminders?openId=${cadre}`)).json() as { messages: Msg[] };
    expect(rem.messages).toHaveLength(1);
    const actions = [...rem.messages[0]!.html.matchAll(/data-action="([^"]+)"/g)].map((m) => JSON.parse(m[1]!.replace(/&quot;/g, '"')) as Record<string, unknown>);
    const snooze = actions.find((a) => a.action === 'reminder_snooze' && a.days === 1 && String(a.item).endsWith(':survey'))!;
    const done = actions.find((a) => a.action === 'reminder_done' && String(a.item).endsWith(':audit'))!;
    const sn = (await inject({ method: 'POST', url: '/console/api/press', payload: { openId: cadre, value: snooze, after: sent.last } })).json() as Sent & { toast: { type: string; content: string } };
    expect(sn.toast).toEqual({ type: 'success', content: expect.stringContaining('已延后') });
    const pressed = (await inject({ method: 'POST', url: '/console/api/press', payload: { openId: cadre, value: done, after: sn.last } })).json() as Sent & { toast: { content: string } };
    expect(pressed.toast.content).toContain('登记表单');
    const form = pressed.messages.find((m) => m.html.includes('data-form="checkin_form"'))!;
    expect(form).toBeDefined();
    const village = Number(/<select name="village"[^>]*>[\s\S]*?<option value="(\d+)" selected>/.exec(form.html)![1]);
    expect(form.html).toMatch(/<select name="stage"[^>]*>[\s\S]*?<option value="audit" selected>/);
    const submit = JSON.parse(/data-action="([^"]+)" data-submit="1"/.exec(form.html)![1]!.replace(/&quot;/g, '"')) as Record<string, unknown>;

    // A form submit without a required field is refused by the handler, with nothing recorded.
    const incomplete = (await inject({ method: 'POST', url: '/console/api/press', payload: { openId: cadre, value: submit, formValue: { village: String(village), stage: 'audit' }, after: pressed.last } })).json() as { toast: { type: string } };
    expect(incomplete.toast.type).toBe('error');
    const submitted = (
      await inject({ method: 'POST', url: '/console/api/press', payload: { openId: cadre, value: submit, formValue: { village: String(village), stage: 'audit', status: '已完成', date: '2026-11-19 +0800' }, after: pressed.last } })
    ).json() as Sent & { toast: { type: string; content: string } };
    expect(submitted.toast).toEqual({ type: 'success', content: '已登记' });
    expect(submitted.messages.map((m) => m.text).join('\n')).toContain('已登记');
    expect(t.rt.db.prepare(`SELECT stage_key, status, completed_on, updated_by FROM wf_stage_progress WHERE village_id = ?`).all(village)).toEqual([
      { stage_key: 'audit', status: '已完成', completed_on: '2026-11-19', updated_by: cadre },
    ]);
    // The press went through intake as a card callback, like Lark's.
    expect(t.rt.db.prepare(`SELECT COUNT(*) AS n FROM received_events WHERE event_type = 'card.action.trigger' AND event_id LIKE 'local_%'`).get()).toEqual({ n: 4 });
  });

  it('refuses unknown people and bad input', async () => {
    t = await startTestRuntime();
    seedCampaign(t.rt.db, distinctCampaign());
    // Real data: the console needs a sign-in (issue 14).
    const inject = await signedInInject(t.app, t.rt.db, t.rt.clock.now());
    expect((await inject({ method: 'POST', url: '/console/api/send', payload: { openId: 'ou_nobody', text: '帮助' } })).statusCode).toBe(404);
    expect((await inject({ method: 'POST', url: '/console/api/send', payload: { openId: 'ou_cadre_t0_v0', text: '   ' } })).statusCode).toBe(400);
    expect((await inject({ method: 'POST', url: '/console/api/send', payload: { openId: 'ou_cadre_t0_v0', text: 'x'.repeat(2001) } })).statusCode).toBe(400);
    expect((await inject({ method: 'POST', url: '/console/api/press', payload: { openId: 'ou_cadre_t0_v0', value: { no: 'action' } } })).statusCode).toBe(400);
    expect((await inject('/console/api/dashboard-link?openId=ou_cadre_t0_v0')).statusCode).toBe(403);
  });

  it('escapes what people type (the question comes back in the answer card)', async () => {
    t = await startTestRuntime({ ingest: true });
    seedCampaign(t.rt.db, distinctCampaign());
    // Real data: the console needs a sign-in (issue 14).
    const inject = await signedInInject(t.app, t.rt.db, t.rt.clock.now());
    const evil = '<img src=x onerror=alert(1)><script>alert(2)</script>"\'选民名单要提前多少天公布？';
    const r = (await inject({ method: 'POST', url: '/console/api/send', payload: { openId: 'ou_cadre_t0_v0', text: evil } })).json() as Sent;
    const html = r.messages.map((m) => m.html).join('');
    expect(html).toContain('选民名单要提前多少天公布');
    expect(html).not.toMatch(/<img|<script/i);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('uses a separate demo database (演示数据) while no roster is imported, and never writes demo data into the real one', async () => {
    t = await startTestRuntime({ clock: new ManualClock(WEB_NOW) });
    const state = (await t.app.inject('/console/api/state')).json() as { demo: boolean; people: { openId: string; role: string | null; leader: boolean }[] };
    expect(state.demo).toBe(true);
    expect(state.people.filter((p) => p.role).every((p) => p.openId.startsWith('ou_demo_'))).toBe(true);
    if (onPostgres) {
      // The demo's schema beside the real one (no file): it holds the demo roster.
      const demo = `"${demoSchema(t.rt.config.databaseSchema)}"`;
      expect((t.rt.db.prepare(`SELECT COUNT(*) AS n FROM ${demo}.wf_people WHERE open_id LIKE 'ou_demo_%'`).get() as { n: number }).n).toBeGreaterThan(0);
    } else expect(existsSync(join(t.dir, 'demo', 'huanjie.db'))).toBe(true);
    const cadre = state.people.find((p) => p.role === '干部')!.openId;
    const r = (await t.app.inject({ method: 'POST', url: '/console/api/send', payload: { openId: cadre, text: '我的' } })).json() as Sent;
    expect(r.messages.map((m) => m.text).join('')).toContain('东城镇');
    // The real database has no roster, no progress and no console messages.
    const real = t.rt.db;
    expect(real.prepare('SELECT COUNT(*) AS n FROM wf_people').get()).toEqual({ n: 0 });
    expect(real.prepare('SELECT COUNT(*) AS n FROM wf_regions').get()).toEqual({ n: 0 });
    expect(real.prepare('SELECT COUNT(*) AS n FROM wf_stage_progress').get()).toEqual({ n: 0 });
    expect(real.prepare('SELECT COUNT(*) AS n FROM outbox').get()).toEqual({ n: 0 });
    // A leader persona gets a dashboard link to the demo data, which works without DASHBOARD_SECRET.
    const leader = state.people.find((p) => p.leader && p.role === '领导')!.openId;
    const link = (await t.app.inject(`/console/api/dashboard-link?openId=${leader}`)).json() as { url: string };
    const d = await t.app.inject(link.url.replace('/dashboard?', '/dashboard/api/data?'));
    expect(d.statusCode).toBe(200);
    expect((d.json() as { demo: boolean; scope: { county: string } }).demo).toBe(true);
    // Once a roster is imported, the console switches to it.
    seedCampaign(t.rt.db, distinctCampaign());
    // Real data now: the console asks for a sign-in (issue 14), then shows it.
    expect((await t.app.inject('/console/api/state')).statusCode).toBe(401);
    const signed = await signedInInject(t.app, t.rt.db, t.rt.clock.now());
    expect(((await signed('/console/api/state')).json() as { demo: boolean }).demo).toBe(false);
    // A demo link stays a demo link: it shows the demo database, marked as such, never the real one.
    const again = (await t.app.inject(link.url.replace('/dashboard?', '/dashboard/api/data?'))).json() as { demo: boolean; scope: { county: string } };
    expect(again).toMatchObject({ demo: true, scope: { county: '演示县' } });
  });
});

describe('dashboard routes', () => {
  let t: TestEnv;
  afterEach(async () => t?.close({ remove: true }));
  const campaign = distinctCampaign();
  const [own, other] = campaign.townships as [string, string];

  async function setup(env: Record<string, string> = { DASHBOARD_SECRET }) {
    t = await startTestRuntime({ clock: new ManualClock(WEB_NOW), env });
    seedCampaign(t.rt.db, campaign);
    const inject = await signedInInject(t.app, t.rt.db, t.rt.clock.now());
    // Some progress in both townships, so both have named villages to leak.
    for (const [openId, text] of [
      [campaign.ids.cadres[0]![0]!, '完成 城西村 审计'],
      [campaign.ids.cadres[1]![0]!, '完成 二城西村 审计'],
      [campaign.ids.cadres[1]![1]!, '完成 二城东村 审计'],
    ] as const) {
      await inject({ method: 'POST', url: '/console/api/send', payload: { openId, text } });
    }
    expect(t.rt.db.prepare(`SELECT COUNT(*) AS n FROM wf_stage_progress WHERE status = '已完成'`).get()).toEqual({ n: 3 });
  }
  const tokenFor = (openId: string, scopeId: number | null, opts: { expiresAt?: number; secret?: string } = {}) =>
    signDashboardToken({ openId, scopeId, expiresAt: opts.expiresAt ?? WEB_NOW + 3600_000 }, opts.secret ?? DASHBOARD_SECRET);
  const scopeOf = (openId: string) => loadPrincipal(createWorkflowRepos(t.rt.db).roster, { openId, isAdmin: false }).scopeId;
  const allVillageNames = () => (t.rt.db.prepare(`SELECT name FROM wf_regions WHERE kind = 'village'`).all() as { name: string }[]).map((r) => r.name);

  it('refuse missing, malformed, expired, altered, foreign-secret, out-of-scope and non-leader links with 403 and no data', async () => {
    await setup();
    const leader = campaign.ids.townshipLeaders[0]!;
    const good = tokenFor(leader, scopeOf(leader));
    const cases: [string, string][] = [
      ['', 'missing'],
      ['garbage', 'malformed'],
      [tokenFor(leader, scopeOf(leader), { expiresAt: WEB_NOW - 1 }), 'expired'],
      [alterPayload(good), 'bad_signature'],
      [tokenFor(leader, scopeOf(leader), { secret: 'another-secret' }), 'bad_signature'],
      // Correctly signed, but for another township than the leader's.
      [tokenFor(leader, townshipId(t.rt.db, other)), 'out_of_scope'],
      // A cadre gets no dashboard, whatever the link says.
      [tokenFor(campaign.ids.cadres[0]![0]!, scopeOf(campaign.ids.cadres[0]![0]!)), 'out_of_scope'],
      [tokenFor('ou_not_in_roster', scopeOf(leader)), 'out_of_scope'],
    ];
    for (const [token, reason] of cases) {
      for (const path of ['/dashboard', '/dashboard/api/data']) {
        const r = await t.app.inject(`${path}?t=${encodeURIComponent(token)}`);
        expect(r.statusCode, `${path} ${reason}`).toBe(403);
        if (path.endsWith('data')) expect(r.json()).toEqual({ error: reason, message: expect.any(String) });
        for (const name of [...allVillageNames(), own, other]) expect(r.body).not.toContain(name);
      }
    }
    // The good one opens.
    expect((await t.app.inject(`/dashboard?t=${encodeURIComponent(good)}`)).statusCode).toBe(200);
  });

  it('without DASHBOARD_SECRET no link opens', async () => {
    await setup({});
    const leader = campaign.ids.townshipLeaders[0]!;
    const r = await t.app.inject(`/dashboard/api/data?t=${encodeURIComponent(tokenFor(leader, scopeOf(leader)))}`);
    expect(r.statusCode).toBe(403);
    expect(r.json().error).toBe('not_configured');
  });

  it("a township leader's link shows the township's numbers, and never another township's villages, on any route", async () => {
    await setup();
    const leader = campaign.ids.townshipLeaders[0]!;
    const token = encodeURIComponent(tokenFor(leader, scopeOf(leader)));
    const ownNames = villagesOf(t.rt.db, own).map((v) => v.name);
    const otherNames = villagesOf(t.rt.db, other).map((v) => v.name);
    expect(otherNames.every((n) => !ownNames.includes(n))).toBe(true);
    const otherPeople = campaign.people.filter((p) => p.township === other).map((p) => p.openId);

    const r = await t.app.inject(`/dashboard/api/data?t=${token}`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    const d = r.json() as { scope: { name: string; kind: string }; summary: { villages: number; done: number; total: number }; townships: unknown[]; overdue: { villages: { village: string }[] } };
    expect(d.scope).toMatchObject({ kind: 'township', name: own });
    const expected = expectedCompletion(t.rt.db, own);
    expect(d.summary).toMatchObject({ villages: expected.villages, done: expected.done, total: expected.total });
    expect(expected.done).toBe(1);
    expect(d.townships).toEqual([]);
    expect(d.overdue.villages.map((v) => v.village).sort()).toEqual([...ownNames].sort());
    for (const body of [r.body, (await t.app.inject(`/dashboard?t=${token}`)).body, (await t.app.inject(`/dashboard/api/data?t=${token}&township=${townshipId(t.rt.db, own)}`)).body]) {
      for (const name of otherNames) expect(body).not.toContain(name);
      for (const id of otherPeople) expect(body).not.toContain(id);
    }
    // Asking for the other township, or something that is not a township, is refused.
    for (const township of [String(townshipId(t.rt.db, other)), String(villagesOf(t.rt.db, own)[0]!.id), '999999', 'x']) {
      const bad = await t.app.inject(`/dashboard/api/data?t=${token}&township=${township}`);
      expect(bad.statusCode).toBe(403);
      for (const name of [...ownNames, ...otherNames]) expect(bad.body).not.toContain(name);
    }
  });

  it("a county leader sees every township, and can narrow to one: then only that township's villages", async () => {
    await setup();
    const leader = campaign.ids.countyLeader;
    const token = encodeURIComponent(tokenFor(leader, scopeOf(leader)));
    const all = (await t.app.inject(`/dashboard/api/data?t=${token}`)).json() as { scope: { kind: string }; summary: { villages: number; done: number }; townships: { id: number; name: string }[] };
    expect(all.scope.kind).toBe('county');
    expect(all.summary).toMatchObject({ villages: 6, done: 3 });
    expect(all.townships.map((x) => x.name).sort()).toEqual([...campaign.townships].sort());
    const r = await t.app.inject(`/dashboard/api/data?t=${token}&township=${townshipId(t.rt.db, other)}`);
    expect(r.statusCode).toBe(200);
    const d = r.json() as { filter: { name: string }; summary: { villages: number; done: number; total: number } };
    expect(d.filter.name).toBe(other);
    const expected = expectedCompletion(t.rt.db, other);
    expect(d.summary).toMatchObject({ villages: expected.villages, done: 2, total: expected.total });
    for (const v of villagesOf(t.rt.db, own)) expect(r.body).not.toContain(`"${v.name}"`);
  });

  it('serves ECharts and the CJK font from this server, with the CSP on every page', async () => {
    await setup();
    const js = await t.app.inject('/web/echarts.min.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toContain('javascript');
    expect(js.body.length).toBeGreaterThan(500_000);
    const font = await t.app.inject('/web/fonts/noto-sans-sc.ttf');
    expect(font.statusCode).toBe(200);
    expect(font.rawPayload.length).toBeGreaterThan(1_000_000);
    expect((await t.app.inject('/web/../../package.json')).statusCode).toBe(404);
    expect((await t.app.inject('/web/nothing.js')).statusCode).toBe(404);
    const leader = campaign.ids.townshipLeaders[0]!;
    const page = await t.app.inject(`/dashboard?t=${encodeURIComponent(tokenFor(leader, scopeOf(leader)))}`);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'.*script-src 'self'/);
    expect(page.body).toContain('/web/echarts.min.js');
    expect(page.body).not.toMatch(/https?:\/\//);
  });
});
