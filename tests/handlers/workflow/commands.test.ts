import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chatHarness, type ChatHarness } from './harness.js';

/**
 * The check-in grammar through the real intake and router, on a seeded
 * campaign: 沁河镇 (城西村, 城东村, 南关社区) and 郭道镇 (the same names).
 * Today is 2026-11-05; the election day is 2026-11-28.
 */
let h: ChatHarness;
let cadre: string; // 沁河镇城西村's cadre
let team: string; // 沁河镇 work team (all three villages)
beforeEach(async () => {
  h = await chatHarness();
  cadre = h.campaign.ids.cadres[0]![0]!;
  team = h.campaign.ids.teams[0]!;
});
afterEach(() => h.close());

const stage = (village: string, key: string, township = '沁河镇') =>
  h.t.rt.db
    .prepare(
      `SELECT p.status, p.completed_on, p.note, p.updated_by FROM wf_stage_progress p JOIN wf_regions v ON v.id = p.village_id
       JOIN wf_regions t ON t.id = v.parent_id WHERE v.name = ? AND t.name = ? AND p.stage_key = ?`,
    )
    .get(village, township, key) as { status: string; completed_on: string | null; note: string | null; updated_by: string } | undefined;

describe('every form of the SPEC §2.3 table records or answers', () => {
  const cases: { text: string; reply: RegExp; check?: () => void; before?: string[] }[] = [
    { text: '完成 城西村 审计', reply: /已登记：沁河镇城西村「审计」登记为“已完成”，完成日期 11月5日/, check: () => expect(stage('城西村', 'audit')).toMatchObject({ status: '已完成', completed_on: '2026-11-05' }) },
    { text: '/完成 城西 审计', reply: /城西村「审计」/, check: () => expect(stage('城西村', 'audit')?.status).toBe('已完成') },
    { text: '／完成　城西村，离任审计', reply: /「审计」登记为“已完成”/, check: () => expect(stage('城西村', 'audit')?.status).toBe('已完成') },
    { text: '完成 审计 城西村', reply: /城西村「审计」/, check: () => expect(stage('城西村', 'audit')?.status).toBe('已完成') },
    { text: '完成 城西村 审计 11月1日', reply: /完成日期 11月1日/, check: () => expect(stage('城西村', 'audit')?.completed_on).toBe('2026-11-01') },
    { text: '完成 城西村 审计 昨天', reply: /完成日期 11月4日/, check: () => expect(stage('城西村', 'audit')?.completed_on).toBe('2026-11-04') },
    { text: '完成 城西村 审计 2026-10-30 审计结果已公开', reply: /完成日期 10月30日，备注：审计结果已公开/, check: () => expect(stage('城西村', 'audit')?.note).toBe('审计结果已公开') },
    { text: '完成 城西村 摸底', reply: /「摸底研判」/, check: () => expect(stage('城西村', 'survey')?.status).toBe('已完成') },
    { text: '进度 城西村 摸底研判 进行中 已走访30户', reply: /“进行中”，备注：已走访30户/, check: () => expect(stage('城西村', 'survey')).toMatchObject({ status: '进行中', completed_on: null }) },
    { text: '进度 城西村 推选选举委员会 受阻 选委会人选有争议', reply: /“受阻”/, check: () => expect(stage('城西村', 'election_committee')?.status).toBe('受阻') },
    {
      text: '进度 城西村 选举 进行中 参选率94%',
      before: ['完成 城西村 审计 11月1日', '完成 城西村 选委会', '完成 城西村 选民登记', '完成 城西村 名单公布', '完成 城西村 异议处理', '完成 城西村 摸底', '完成 城西村 推荐', '完成 城西村 资格审查', '完成 城西村 候选人提名'],
      reply: /「村委会选举」登记为“进行中”，备注：参选率94%/,
      check: () => expect(stage('城西村', 'committee_election')).toMatchObject({ status: '进行中', note: '参选率94%' }),
    },
    { text: '进度 城西村', reply: /城西村 · 换届进度[\s\S]*审计[\s\S]*村委会选举/ },
    { text: '进度 城西', reply: /城西村 · 换届进度/ },
    { text: '进度 沁河镇', reply: /沁河镇 · 换届进度[\s\S]*南关社区[\s\S]*城东村[\s\S]*城西村/ },
    { text: '进度', reply: /我负责的村\(社区\)进度[\s\S]*城西村/ },
    { text: '我的', reply: /我的换届工作[\s\S]*城西村（沁河镇）[\s\S]*已逾期/ },
    { text: '谈话 候选人城西0 完成 11月3日 已签承诺书', reply: /选前谈话已完成（11月3日），纪律承诺书已签/ },
    { text: '谈话 候选人城西0 选前谈话 完成 未签承诺书 本人表示考虑', reply: /纪律承诺书未签/ },
    { text: '谈话', reply: /我的谈话安排[\s\S]*候选人城西0/ },
    { text: '风险 城西村 信访 有群众反映拉票', reply: /登记问题 #\d+（信访，较重，四必查：拉票贿选）/ },
    { text: '风险 城西村 宗族 严重 两大姓争主任', reply: /宗族宗派，严重）/ },
    { text: '风险 城西村 村里有人说闲话', reply: /其他，一般）：村里有人说闲话/ },
    { text: '风险', reply: /问题清单（未结 0）/ },
    { text: '风险 城西村', reply: /城西村 · 问题清单/ },
    { text: '结构 城西村', reply: /新一届班子结构[\s\S]*尚未登记/ },
    { text: '撤销', before: ['完成 城西村 审计'], reply: /已撤销：沁河镇城西村「审计」/, check: () => expect(stage('城西村', 'audit')).toBeUndefined() },
  ];
  for (const c of cases) {
    it(c.text, async () => {
      for (const b of c.before ?? []) expect((await h.say(cadre, b))[0]).toMatch(/已登记/);
      const replies = await h.say(cadre, c.text);
      expect(replies).toHaveLength(1);
      expect(replies[0]).toMatch(c.reply);
      c.check?.();
    });
  }

  it('结构 after the election, with compliance against the targets', async () => {
    for (const k of ['审计 11月1日', '选委会', '选民登记', '名单公布', '异议处理', '摸底', '推荐', '资格审查', '候选人提名']) await h.say(cadre, `完成 城西村 ${k}`);
    expect((await h.say(cadre, '完成 城西村 选举'))[0]).toMatch(/村委会选举/);
    const r = await h.say(cadre, '结构 城西村 一肩挑=是 大学生=1 35岁以下=1 女性=1 党员比例=60%');
    expect(r[0]).toMatch(/一肩挑是，大学生1名，35岁以下1名，女性1名，党员比例60%；各项指标均已达标/);
    const r2 = await h.say(cadre, '结构 城西村 女性=0 党员比例=2/5');
    expect(r2[0]).toMatch(/未达标：女性、党员比例/);
    expect(h.t.rt.db.prepare('SELECT women, party_ratio, one_shoulder FROM wf_structures').get()).toEqual({ women: 0, party_ratio: 0.4, one_shoulder: 1 });
  });

  it('风险 跟进 and 销号: a 四必查 item closes only after a follow-up', async () => {
    const open = (await h.say(cadre, '风险 城西村 拉票贿选 有人请客拉票'))[0]!;
    const id = /#(\d+)/.exec(open)![1];
    const before = h.state();
    expect((await h.say(cadre, `风险 销号 ${id} 已处理`))[0]).toMatch(/四必查.*必须先登记核查跟进情况/);
    expect(h.state()).toBe(before);
    expect((await h.say(cadre, `风险 跟进 #${id} 经核查请客属实，已移交纪委`))[0]).toMatch(/跟进：经核查/);
    expect((await h.say(cadre, `风险 销号 ${id} 已立案`))[0]).toMatch(/已销号：已立案/);
    expect(h.t.rt.db.prepare('SELECT status FROM wf_risks WHERE id = ?').get(Number(id))).toEqual({ status: '已结' });
  });
});

describe('malformed and hostile input: a clear reply, nothing changed', () => {
  const cases: { text: string; reply: RegExp; as?: 'cadre' | 'stranger'; audited?: boolean }[] = [
    { text: '完成', reply: /用法：完成 村名 阶段/ },
    { text: '完成 城西村', reply: /用法：完成 村名 阶段/ },
    { text: '完成 城北村 审计', reply: /找不到村\(社区\)「城北村」/ },
    { text: '完成 城西屯 审计', reply: /您是不是要找：.*城西村/ },
    { text: '完成 城西村 审记', reply: /没有「审记」这个阶段。您是不是要找：审计/ },
    { text: '完成 城西村 开大会', reply: /没有「开大会」这个阶段/ },
    { text: '完成 城西村 选举', reply: /按照“先审计、后换届”，城西村「村委会选举」的前置阶段尚未完成：「审计」（未开始）/ },
    { text: '完成 城西村 党组织选举', reply: /前置阶段尚未完成：「审计」/ },
    { text: '完成 城西村 推荐', reply: /前置阶段尚未完成：「摸底研判」（未开始）/ },
    { text: '进度 城西村 资格审查 进行中', reply: /前置阶段尚未完成：「推荐」/ },
    { text: '完成 城西村 审计 明天', reply: /不是有效日期|还没到/ },
    { text: '完成 城西村 审计 2026-11-06', reply: /日期 11月6日 还没到，不能登记未来的日期/ },
    { text: '完成 城西村 审计 2027年1月1日', reply: /还没到/ },
    { text: '完成 城西村 审计 11月31日', reply: /「11月31日」不是有效日期/ },
    { text: '完成 城西村 审计 2026-02-30', reply: /不是有效日期/ },
    { text: '进度 城西村 审计', reply: /请写明「审计」的状态/ },
    { text: '进度 城西村 审计 差不多了', reply: /请写明「审计」的状态/ },
    { text: '进度 城北村', reply: /找不到村\(社区\)或乡镇「城北村」/ },
    { text: '完成 城东村 审计', reply: /「沁河镇城东村」不是您负责的村\(社区\)/, audited: true },
    { text: '完成 郭道镇城西村 审计', reply: /「郭道镇城西村」不是您负责的村\(社区\)/, audited: true },
    { text: '结构 城东村 女性=1', reply: /不是您负责的村/, audited: true },
    { text: '风险 城东村 信访 有人上访', reply: /不是您负责的村/, audited: true },
    { text: '完成 城西村 审计', as: 'stranger', reply: /不在本次换届工作的人员名单中/, audited: true },
    { text: '我的', as: 'stranger', reply: /不在本次换届工作的人员名单中/, audited: true },
    { text: '撤销', as: 'stranger', reply: /不在本次换届工作的人员名单中/, audited: true },
    { text: '撤销', reply: /没有可以撤销的登记/ },
    { text: '撤销 全部', reply: /只撤回您最近一次登记/ },
    { text: '谈话 王五 完成', reply: /谈话计划中没有谈话对象「王五」/ },
    { text: '谈话 候选人城西 完成', reply: /您是不是要找：候选人城西0/ },
    { text: '谈话 候选人城西0 完成', reply: /选前谈话须登记纪律承诺书是否签订/ },
    { text: '谈话 候选人城西0 完成 后天 已签承诺书', reply: /日期 11月7日 还没到/ },
    { text: '谈话 候选人城西0 完成 2026-12-01 已签承诺书', reply: /还没到/ },
    { text: '谈话 候选人城东1 完成 已签承诺书', reply: /不是安排给您的/, audited: true },
    { text: '风险 城西村', reply: /城西村 · 问题清单/ },
    { text: '风险 城西村 信访', reply: /请写明问题内容/ },
    { text: '风险 销号 999', reply: /没有编号为 999 的问题/ },
    { text: '风险 跟进', reply: /请写明问题编号/ },
    { text: '风险 跟进 abc 已处理', reply: /请写明问题编号/ },
    { text: '结构 城西村 女性=1', reply: /「村委会选举」尚未登记完成/ },
    { text: '结构 城西村 女性=很多', reply: /「女性」应为 0–20 的人数/ },
    { text: '结构 城西村 党员比例=150%', reply: /「党员比例」应为 0–100% 的比例/ },
    { text: '结构 城西村 一肩挑=也许', reply: /「一肩挑」应为 是 或 否/ },
    { text: '结构 城西村 男性=3', reply: /没有「男性」这一项/ },
    { text: '结构 城西村 女性=1 女性=2', reply: /「女性」写了两次/ },
    { text: '结构 城西村 女性1', reply: /应写成 项目=值/ },
    { text: '结构', reply: /用法：结构 村名/ },
    { text: `完成 城西村 审计 ${'很长的备注'.repeat(150)}`, reply: /内容过长/ },
    { text: "完成 城西村'; DROP TABLE wf_regions;-- 审计", reply: /没有「DROP」这个阶段/ },
    { text: '完成 <at user_id="all"></at> 审计', reply: /找不到村\(社区\)/ },
    { text: '完成 [城西村](http://evil.example) 审计', reply: /找不到村\(社区\)/ },
    { text: '完成 城西村 **审计**', reply: /城西村「审计」|没有/ },
    { text: '进度 %', reply: /找不到村\(社区\)或乡镇/ },
    { text: '完成 城 审计', reply: /对应多个村|找不到/ },
  ];
  for (const c of cases) {
    it(`${c.as ?? 'cadre'}: ${c.text.slice(0, 40)}`, async () => {
      const who = c.as === 'stranger' ? 'ou_not_in_roster' : cadre;
      const before = h.state();
      const audits = h.auditCount();
      const replies = await h.say(who, c.text);
      expect(replies).toHaveLength(1);
      expect(replies[0]).toMatch(c.reply);
      // '**审计**' is read as 审计 (punctuation is forgiven): the one input here allowed to record.
      if (c.text.includes('**审计**')) return;
      expect(h.state()).toBe(before);
      if (c.audited) {
        const row = h.t.rt.repos.audit.recent(1)[0]!;
        expect(row.action).toMatch(/^denied:/);
        expect(row.actor).toBe(who);
        expect(h.auditCount()).toBe(audits + 1);
      } else {
        expect(h.auditCount()).toBe(audits);
      }
    });
  }

  it('a refused check-in leaves even a stage record that was there unchanged', async () => {
    await h.say(cadre, '完成 城西村 审计 11月1日');
    await h.say(cadre, '完成 城西村 选委会');
    await h.say(cadre, '完成 城西村 选民登记');
    const before = h.state();
    expect((await h.say(cadre, '进度 城西村 选委会 进行中'))[0]).toMatch(/之后的「选民登记」已经开始，不能把它改回“进行中”/);
    expect((await h.say(cadre, '完成 城西村 选民登记 10月20日'))[0]).toMatch(/早于前置阶段「推选选举委员会」的完成日期|已经是/);
    expect((await h.say(cadre, '完成 城西村 选民登记'))[0]).toMatch(/已经是“已完成”/);
    expect(h.state()).toBe(before);
  });
});

describe('authorisation by role', () => {
  it('干部: own villages only; 工作组: every village assigned; 领导: scope; 管理员: everywhere', async () => {
    const { ids } = h.campaign;
    expect((await h.say(cadre, '完成 城西村 审计'))[0]).toMatch(/已登记/);
    expect((await h.say(cadre, '完成 南关社区 审计'))[0]).toMatch(/不是您负责的/);
    expect((await h.say(team, '完成 南关社区 审计'))[0]).toMatch(/已登记/);
    expect((await h.say(team, '完成 郭道镇城西村 审计'))[0]).toMatch(/不是您负责的/);
    expect((await h.say(ids.townshipLeaders[0]!, '完成 城东村 审计'))[0]).toMatch(/已登记/);
    expect((await h.say(ids.townshipLeaders[0]!, '完成 郭道镇城东村 审计'))[0]).toMatch(/不是您负责的/);
    expect((await h.say(ids.townshipLeaders[1]!, '完成 郭道镇城东村 审计'))[0]).toMatch(/已登记/);
    expect((await h.say(ids.countyLeader, '完成 郭道镇南关社区 审计'))[0]).toMatch(/已登记/);
    expect((await h.say(ids.admin, '完成 郭道镇城西村 审计'))[0]).toMatch(/已登记/);
    // An admin only by ADMIN_OPEN_IDS (not in the roster) is an admin too: see the env test below.
    const denied = h.t.rt.repos.audit.recent(200).filter((r) => r.action.startsWith('denied:'));
    expect(denied.map((r) => r.actor).sort()).toEqual([cadre, ids.townshipLeaders[0]!, team].sort());
  });

  it('viewing: a cadre sees their township, not another township', async () => {
    expect((await h.say(cadre, '进度 城东村'))[0]).toMatch(/城东村 · 换届进度/);
    expect((await h.say(cadre, '进度 郭道镇城东村'))[0]).toMatch(/无权查看/);
    expect((await h.say(cadre, '进度 郭道镇'))[0]).toMatch(/无权查看「郭道镇」/);
    expect((await h.say(h.campaign.ids.countyLeader, '进度 郭道镇'))[0]).toMatch(/郭道镇 · 换届进度/);
  });

  it('talk notes: the interviewer and leaders see them, other cadres of the township do not', async () => {
    await h.say(cadre, '谈话 候选人城西0 完成 11月3日 已签承诺书 家里有矛盾需关注');
    expect((await h.say(cadre, '进度 城西村'))[0]).toContain('家里有矛盾需关注');
    expect((await h.say(h.campaign.ids.townshipLeaders[0]!, '进度 城西村'))[0]).toContain('家里有矛盾需关注');
    const other = h.campaign.ids.cadres[0]![1]!;
    const seen = (await h.say(other, '进度 城西村'))[0]!;
    expect(seen).toContain('候选人城西0');
    expect(seen).not.toContain('家里有矛盾需关注');
    expect((await h.say(team, '进度 城西村'))[0]).not.toContain('家里有矛盾需关注');
  });
});

describe('audit and undo', () => {
  it('every change writes an audit row with before and after, in the same transaction', async () => {
    await h.say(cadre, '完成 城西村 审计 11月1日');
    await h.say(cadre, '进度 城西村 审计 进行中 复核中');
    const rows = h.t.rt.repos.audit.recent(2);
    expect(rows.map((r) => r.action)).toEqual(['checkin.stage', 'checkin.stage']);
    expect(JSON.parse(rows[1]!.before ?? 'null')).toBeNull();
    expect(JSON.parse(rows[1]!.after!)).toMatchObject({ status: '已完成', completed_on: '2026-11-01', updated_by: cadre });
    expect(JSON.parse(rows[0]!.before!)).toMatchObject({ status: '已完成' });
    expect(JSON.parse(rows[0]!.after!)).toMatchObject({ status: '进行中', note: '复核中' });
    expect(rows.every((r) => r.actor === cadre)).toBe(true);
  });

  it('撤销 undoes the sender’s last change, then the one before; never another person’s', async () => {
    await h.say(cadre, '完成 城西村 审计 11月1日');
    await h.say(cadre, '进度 城西村 审计 进行中 复核中');
    await h.say(team, '完成 城东村 审计');
    expect((await h.say(cadre, '撤销'))[0]).toMatch(/已撤销：.*由“已完成”改为“进行中”/);
    expect(stage('城西村', 'audit')).toMatchObject({ status: '已完成', completed_on: '2026-11-01' });
    expect((await h.say(cadre, '撤销'))[0]).toMatch(/已撤销：.*登记为“已完成”/);
    expect(stage('城西村', 'audit')).toBeUndefined();
    expect((await h.say(cadre, '撤销'))[0]).toMatch(/没有可以撤销的登记/);
    expect(stage('城东村', 'audit')?.status).toBe('已完成');
    expect(h.t.rt.repos.audit.recent(10).filter((r) => r.action === 'undo')).toHaveLength(2);
  });

  it('撤销 is refused when someone changed the record since, or a later stage depends on it', async () => {
    await h.say(cadre, '完成 城西村 审计 11月1日');
    await h.say(team, '进度 城西村 审计 进行中 重新审计');
    const before = h.state();
    expect((await h.say(cadre, '撤销'))[0]).toMatch(/已被再次修改，不能撤销/);
    expect(h.state()).toBe(before);
    await h.say(team, '撤销');
    await h.say(cadre, '完成 城西村 选委会');
    await h.say(team, '完成 城西村 选民登记');
    expect((await h.say(cadre, '撤销'))[0]).toMatch(/「推选选举委员会」之后的「选民登记」已经开始，不能撤销/);
  });

  it('撤销 of a risk, a talk and a structure puts back the rows', async () => {
    await h.say(cadre, '谈话 候选人城西0 完成 11月3日 已签承诺书');
    await h.say(cadre, '撤销');
    expect(h.t.rt.db.prepare(`SELECT status, held_on, commitment_signed FROM wf_talks WHERE subject = '候选人城西0'`).get()).toEqual({ status: '待谈', held_on: null, commitment_signed: null });
    await h.say(cadre, '风险 城西村 信访 有人上访');
    await h.say(cadre, '撤销');
    expect(h.t.rt.db.prepare('SELECT COUNT(*) AS n FROM wf_risks').get()).toEqual({ n: 0 });
  });
});

describe('idempotency', () => {
  it('the same message delivered twice records once and answers once', async () => {
    const first = await h.say(cadre, '完成 城西村 审计', 'om_same_checkin');
    const again = await h.say(cadre, '完成 城西村 审计', 'om_same_checkin');
    expect(first[0]).toMatch(/已登记/);
    expect(again).toHaveLength(0);
    expect(h.t.rt.db.prepare('SELECT COUNT(*) AS n FROM wf_changes').get()).toEqual({ n: 1 });
  });

  it('a handler re-run for the same message after a crash records once and repeats the same confirmation', async () => {
    const route = (text: string) => {
      const replies: string[] = [];
      return h.t.rt.commands
        .route({
          command: { name: '完成', args: text.split(' '), rest: text },
          actor: h.t.rt.actorResolver(cadre),
          reply: { text: (t) => void replies.push(t), card: () => {} },
          outbox: { enqueue: () => {} },
          clock: h.clock,
          logger: h.t.rt.logger,
          sourceId: 'om_crashed_once',
        })
        .then(() => replies);
    };
    const a = await route('城西村 审计');
    const b = await route('城西村 审计');
    expect(b).toEqual(a);
    expect(h.t.rt.db.prepare('SELECT COUNT(*) AS n FROM wf_changes').get()).toEqual({ n: 1 });
    expect(h.t.rt.repos.audit.recent(10).filter((r) => r.action === 'checkin.stage')).toHaveLength(1);
  });
});

describe('admins from ADMIN_OPEN_IDS', () => {
  it('are admins although not in the roster', async () => {
    const h2 = await chatHarness({ env: { ADMIN_OPEN_IDS: 'ou_env_admin_1' } });
    try {
      expect((await h2.say('ou_env_admin_1', '完成 郭道镇南关社区 审计'))[0]).toMatch(/已登记/);
      expect((await h2.say('ou_env_admin_2', '完成 郭道镇南关社区 审计'))[0]).toMatch(/不在本次换届工作的人员名单中/);
    } finally {
      await h2.close();
    }
  });
});
