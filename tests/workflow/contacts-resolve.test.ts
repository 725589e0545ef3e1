import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderMessageText } from '../../src/bot/card-text.js';
import { larkContacts } from '../../src/bot/lark-contacts.js';
import { localTextMessage } from '../../src/bot/local-event.js';
import { ManualClock } from '../../src/clock.js';
import { createContactLookupRepo } from '../../src/store/contact-lookup-repo.js';
import { createWorkflowRepos, type WorkflowRepos } from '../../src/store/workflow-repos.js';
import { RETRY_NOT_FOUND_MS, resolvePass } from '../../src/workflow/contacts-resolve.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { sampleCampaign, seedCampaign } from '../helpers/roster.js';
import { startTestRuntime, type TestEnv } from '../helpers/test-runtime.js';

/** 07:45 in Asia/Shanghai: after quiet hours, before the 08:30 digest and 09:00 reminder slots (the ticks here plan nothing else). */
const NOW = Date.parse('2026-11-04T23:45:00Z');

/** People an import stores by phone or email only (open_id unknown), each following a village. */
function addUnbound(repos: WorkflowRepos, people: { name: string; phone?: string; email?: string }[]): number[] {
  const village = repos.roster.villages()[0]!;
  return people.map((p) => {
    const id = repos.roster.insertPerson({ name: p.name, openId: null, phone: p.phone ?? null, email: p.email ?? null, role: '干部', scopeId: village.townshipId });
    repos.roster.setAssignments(id, [village.id]);
    return id;
  });
}

const phone = (i: number) => `139${String(10_000_000 + i).slice(-8)}`;

describe('resolving roster phones and emails to Lark open_ids (issue 14)', () => {
  let fake: FakeLark;
  let t: TestEnv;
  let repos: WorkflowRepos;
  let clock: ManualClock;

  beforeEach(async () => {
    fake = await FakeLark.start();
    clock = new ManualClock(NOW);
    t = await startTestRuntime({ fake, clock });
    repos = createWorkflowRepos(t.rt.db, t.rt.repos.audit);
    seedCampaign(repos, sampleCampaign({ townships: 1, villagesPerTownship: 2, talks: false }));
  });
  afterEach(async () => {
    await t.close({ remove: true });
    await fake.close();
  });

  it('binds the found on a scheduler tick, marks the rest not_found, audits and masks', async () => {
    fake.addUsers(
      { openId: 'ou_found_1', mobile: '13900000001' },
      { openId: 'ou_found_2', mobile: '+8613900000002' },
      { openId: 'ou_hidden', mobile: '13900000003', hidden: true },
      { openId: 'ou_mail', email: 'Li.Si@example.cn' },
    );
    const [a, b, hidden, missing, mail] = addUnbound(repos, [
      { name: '甲一', phone: '13900000001' },
      { name: '乙二', phone: '13900000002' },
      { name: '丙三', phone: '13900000003' },
      { name: '丁四', phone: '13900000004' },
      { name: '李四', email: 'li.si@example.cn' },
    ]);
    expect(repos.roster.unboundCount()).toBe(5);

    await t.rt.reminders.scheduler.tick();

    expect(repos.roster.person(a!)!.openId).toBe('ou_found_1');
    expect(repos.roster.person(b!)!.openId).toBe('ou_found_2');
    expect(repos.roster.person(mail!)!.openId).toBe('ou_mail');
    const unbound = new Map(repos.roster.unbound().map((u) => [u.id, u]));
    expect([...unbound.keys()].sort()).toEqual([hidden, missing].sort());
    for (const u of unbound.values()) expect(u).toMatchObject({ lookupStatus: 'not_found', lookupAt: NOW });
    // One call for five people: 4 mobiles and 1 email together.
    const calls = fake.contactCalls.filter((c) => c.api === 'batch_get_id');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.mobiles).toHaveLength(4);
    expect(calls[0]!.emails).toEqual(['li.si@example.cn']);
    const binds = t.rt.repos.audit.recent().filter((r) => r.action === 'person.bind');
    expect(binds).toHaveLength(3);
    expect(JSON.parse(binds.find((r) => r.target === `person:${a}`)!.after!)).toMatchObject({ open_id: 'ou_found_1' });
    expect(binds.find((r) => r.target === `person:${a}`)!.detail).toContain('139****0001');
    const logs = t.logs.join('');
    expect(logs).toContain('已匹配');
    expect(logs).not.toContain('13900000001');

    // The next tick has nothing to do: the not-found wait a day.
    await t.rt.reminders.scheduler.tick();
    expect(fake.contactCalls.filter((c) => c.api === 'batch_get_id')).toHaveLength(1);
    // A day later they are tried again, and the one now visible is bound.
    fake.addUsers({ openId: 'ou_hidden', mobile: '13900000003' });
    clock.advance(RETRY_NOT_FOUND_MS);
    await t.rt.reminders.scheduler.tick();
    expect(fake.contactCalls.filter((c) => c.api === 'batch_get_id')).toHaveLength(2);
    expect(repos.roster.person(hidden!)!.openId).toBe('ou_hidden');
    expect(repos.roster.unbound().map((u) => u.id)).toEqual([missing]);
  });

  it('people added later (another process importing) are resolved on the next tick', async () => {
    await t.rt.reminders.scheduler.tick();
    expect(fake.contactCalls).toHaveLength(0); // nobody unbound: no call
    fake.addUsers({ openId: 'ou_late', mobile: phone(77) });
    const [late] = addUnbound(repos, [{ name: '晚到', phone: phone(77) }]);
    await t.rt.reminders.scheduler.tick();
    expect(repos.roster.person(late!)!.openId).toBe('ou_late');
  });

  it('waits out a 429 (x-ogw-ratelimit-reset) and backs off a 500, then binds', async () => {
    fake.addUsers({ openId: 'ou_r1', mobile: phone(1) });
    const [p] = addUnbound(repos, [{ name: '重试', phone: phone(1) }]);
    fake.failContactsNext(
      { status: 429, headers: { 'x-ogw-ratelimit-reset': '1' }, body: { code: 99991400, msg: 'request trigger frequency limit' } },
      { status: 500, body: { code: 1, msg: 'internal' } },
    );
    await t.rt.reminders.scheduler.tick();
    const calls = fake.contactCalls.filter((c) => c.api === 'batch_get_id');
    expect(calls.map((c) => c.answeredWith)).toEqual([429, 500, 200]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(950);
    expect(repos.roster.person(p!)!.openId).toBe('ou_r1');
  });

  it('never sends more batch_get_id calls per second than the limit; 429s beyond it are retried', async () => {
    const strict = await FakeLark.start({ contactRatePerSecond: 4 });
    const t2 = await startTestRuntime({ fake: strict, clock });
    try {
      const repos2 = createWorkflowRepos(t2.rt.db, t2.rt.repos.audit);
      seedCampaign(repos2, sampleCampaign({ townships: 1, villagesPerTownship: 1, talks: false }));
      const n = 500; // 10 calls
      strict.addUsers(...Array.from({ length: n }, (_, i) => ({ openId: `ou_bulk_${i}`, mobile: phone(1000 + i) })));
      addUnbound(repos2, Array.from({ length: n }, (_, i) => ({ name: `批量${i}`, phone: phone(1000 + i) })));
      const deps = { db: t2.rt.db, roster: repos2.roster, lookups: createContactLookupRepo(t2.rt.db), audit: t2.rt.repos.audit, clock, logger: t2.rt.logger };
      // Paced at the fake's limit (4/s): nothing is refused.
      const paced = larkContacts(t2.rt.larkClient!, t2.rt.logger, { perSecond: 4 });
      expect(await resolvePass({ ...deps, directory: paced }, { maxPeople: 250 })).toMatchObject({ looked: 250, bound: 250, calls: 5 });
      expect(strict.contactCalls.map((c) => c.answeredWith)).toEqual([200, 200, 200, 200, 200]);
      expect(strict.maxContactCallsPerSecond()).toBeLessThanOrEqual(4);
      // Not paced (a wrong setting, or another app of the tenant using the budget): Lark answers 429, the client waits and retries.
      const eager = larkContacts(t2.rt.larkClient!, t2.rt.logger, { perSecond: 1000, perMinute: 100_000 });
      expect(await resolvePass({ ...deps, directory: eager }, { maxPeople: n })).toMatchObject({ looked: 250, bound: 250, calls: 5 });
      expect(repos2.roster.unboundCount()).toBe(0);
      expect(strict.contactCalls.some((c) => c.answeredWith === 429)).toBe(true);
      const answered = strict.contactCalls.filter((c) => c.answeredWith === 200).map((c) => c.at);
      expect(answered).toHaveLength(10);
      for (let i = 4; i < answered.length; i++) expect(answered[i]! - answered[i - 4]!).toBeGreaterThanOrEqual(1000);
    } finally {
      await t2.close({ remove: true });
      await strict.close();
    }
  }, 30_000);

  it('without contact:user.id:readonly: nobody is marked, the hint is logged once', async () => {
    fake.contactScopes.userId = false;
    addUnbound(repos, [{ name: '无权', phone: phone(5) }]);
    await t.rt.reminders.scheduler.tick();
    await t.rt.reminders.scheduler.tick();
    expect(repos.roster.unbound()[0]).toMatchObject({ lookupStatus: null, lookupAt: null });
    const hints = t.logs.filter((l) => l.includes('contact:user.id:readonly'));
    expect(hints).toHaveLength(1);
    fake.contactScopes.userId = true;
    fake.addUsers({ openId: 'ou_granted', mobile: phone(5) });
    await t.rt.reminders.scheduler.tick();
    expect(repos.roster.unboundCount()).toBe(0);
  });

  describe('first message from someone the roster does not know by open_id', () => {
    async function say(openId: string, text: string): Promise<string[]> {
      const env = localTextMessage({ openId, session: `s-${openId}`, text, token: t.rt.config.lark.verificationToken });
      const before = t.rt.repos.outbox.maxId();
      await t.rt.intake.receive(env);
      await t.rt.intake.idle();
      return t.rt.repos.outbox
        .listSince(before)
        .filter((r) => r.intent.startsWith(`reply:${env.messageId}:`))
        .map((r) => renderMessageText(r.msg_type, r.content));
    }

    it('a sender whose Lark mobile is an unbound person\'s is bound and answered', async () => {
      // batch_get_id would not find them (hidden); users/:id still gives the mobile.
      fake.addUsers({ openId: 'ou_newcomer', mobile: phone(9) });
      const [p] = addUnbound(repos, [{ name: '新人', phone: phone(9) }]);
      const replies = await say('ou_newcomer', '我的');
      expect(repos.roster.person(p!)!.openId).toBe('ou_newcomer');
      expect(replies.join('\n')).not.toMatch(/不在|没有与/);
      expect(replies.join('\n')).toContain('新人');
      const bind = t.rt.repos.audit.recent().find((r) => r.action === 'person.bind');
      expect(bind).toMatchObject({ actor: 'ou_newcomer', target: `person:${p}` });
      expect(fake.contactCalls.filter((c) => c.api === 'user').map((c) => c.userId)).toEqual(['ou_newcomer']);
    });

    it('an unknown sender is told, in Chinese, they are not in the roster and whom to ask', async () => {
      addUnbound(repos, [{ name: '待匹配', phone: phone(10) }]);
      fake.addUsers({ openId: 'ou_stranger', mobile: '13700000000' });
      const replies = await say('ou_stranger', '我的');
      expect(replies).toHaveLength(1);
      expect(replies[0]).toContain('不在本次换届工作的人员名单中');
      expect(replies[0]).toContain('137****0000');
      expect(replies[0]).toContain('请联系本县换届办（管理员：换届办管理员）'); // the sample roster's 管理员 by name
      expect(t.rt.repos.audit.recent().find((r) => r.action === 'denied:我的')).toBeTruthy();
      // A second message within minutes costs no Lark call.
      await say('ou_stranger', '我的');
      expect(fake.contactCalls.filter((c) => c.api === 'user')).toHaveLength(1);
    });

    it('without the phone/email scopes the sender hears "not yet matched"', async () => {
      fake.contactScopes.phone = false;
      fake.contactScopes.email = false;
      fake.addUsers({ openId: 'ou_noscope', mobile: phone(11) });
      addUnbound(repos, [{ name: '未匹配', phone: phone(11) }]);
      const replies = await say('ou_noscope', '我的');
      expect(replies[0]).toContain('还没有与换届工作人员名单匹配上');
      expect(t.logs.join('')).toContain('contact:user.phone:readonly');
    });
  });
});

describe('offline (no LARK_APP_ID)', () => {
  it('resolves nothing: people stay 未绑定, never looked up', async () => {
    const t = await startTestRuntime({ clock: new ManualClock(NOW) });
    try {
      const repos = createWorkflowRepos(t.rt.db, t.rt.repos.audit);
      seedCampaign(repos, sampleCampaign({ townships: 1, villagesPerTownship: 1, talks: false }));
      addUnbound(repos, [{ name: '离线', phone: phone(3) }]);
      expect(t.rt.contacts).toBeUndefined();
      await t.rt.reminders.scheduler.tick();
      expect(repos.roster.unbound()[0]).toMatchObject({ name: '离线', openId: null, lookupStatus: null, lookupAt: null });
    } finally {
      await t.close({ remove: true });
    }
  });
});
