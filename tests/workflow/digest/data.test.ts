import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDigest, buildDigests, type DigestData } from '../../../src/workflow/digest/data.js';
import { recordStructure } from '../../../src/workflow/structure.js';
import { addRisk, digestWorld, followUp, holdTalk, type DigestWorld } from './campaign.js';

/**
 * The digest's numbers on the issue-5 campaign (3 townships, 40 villages,
 * 60 people; election day 2026-11-28), after check-ins made through the
 * domain functions on chosen days. Stage deadlines (倒排工期): 审计 10-14,
 * 摸底研判 10-19, 推选选举委员会 10-24, 推荐 10-29, 选民登记 and 资格审查
 * 11-03, 选民名单公布 11-08; 选前谈话 due 11-10, 五必谈·乡镇党委书记 10-20.
 */
let w: DigestWorld;
let risks: { mustCheck: number; serious: number; minor: number };

beforeEach(() => {
  w = digestWorld();
  w.on('2026-10-12');
  w.stage('沁河镇', '城西村', '审计');
  w.on('2026-11-01');
  const minor = addRisk(w, '郭道镇', '城西村', '群众矛盾', '宅基地纠纷', '一般');
  w.on('2026-11-03');
  w.stage('灵空山镇', '城西村', '推选选举委员会', '受阻');
  const mustCheck = addRisk(w, '沁河镇', '城东村', '信访', '有群众反映拉票');
  w.on('2026-11-04');
  w.stage('沁河镇', '城东村', '审计');
  w.stage('沁河镇', '城东村', '摸底研判');
  w.stage('郭道镇', '城西村', '审计', '已完成', '2026-11-01');
  holdTalk(w, '候选人城西0');
  const serious = addRisk(w, '郭道镇', '南关社区', '宗族宗派', '两大姓争主任', '严重');
  risks = { mustCheck, serious, minor };
  w.on('2026-11-05', 8);
});
afterEach(() => w.close());

const countyLeader = () => w.principal(w.campaign.ids.countyLeader);
const cadreName = (township: string, village: string) => w.repos.roster.assignees(w.village(township, village).id).find((p) => p.role === '干部')!.name;

describe('buildDigest: a county leader on 2026-11-05', () => {
  let d: DigestData;
  beforeEach(() => {
    d = buildDigest(w.ctx, countyLeader(), '2026-11-05');
  });

  it('scope and completion by stage', () => {
    expect(d.scope).toMatchObject({ kind: 'county', name: '沁源县' });
    expect(d.villages).toBe(40);
    expect(d.townships).toBe(3);
    expect(d.completion).toMatchObject({ done: 4, total: 40 * 16, villagesAllDone: 0 });
    const stage = (k: string) => d.completion.byStage.find((s) => s.key === k)!;
    expect(stage('audit')).toMatchObject({ total: 40, done: 3, overdue: 37, inProgress: 0, blocked: 0, notStarted: 0 });
    expect(stage('survey')).toMatchObject({ done: 1, overdue: 39 });
    // 受阻 past its deadline counts as overdue (overdue takes precedence in the partition).
    expect(stage('election_committee')).toMatchObject({ done: 0, overdue: 40, blocked: 0 });
    expect(stage('voter_list')).toMatchObject({ notStarted: 40, overdue: 0, dueSoon: 0 });
    expect(stage('committee_election').name).toBe('村(居)委会选举');
    for (const s of d.completion.byStage) expect(s.done + s.overdue + s.inProgress + s.blocked + s.notStarted).toBe(s.total);
    expect(d.weekly).toBeUndefined(); // a Thursday
  });

  it('what was completed yesterday, by whom', () => {
    expect(d.completedYesterday.date).toBe('2026-11-04');
    expect(d.completedYesterday.total).toBe(2); // 郭道镇城西村's 审计 was recorded on 11-04 but done on 11-01
    expect(d.completedYesterday.items).toEqual([
      { villageId: w.village('沁河镇', '城东村').id, village: '城东村', township: '沁河镇', stage: '审计', by: cadreName('沁河镇', '城东村') },
      { villageId: w.village('沁河镇', '城东村').id, village: '城东村', township: '沁河镇', stage: '摸底研判', by: cadreName('沁河镇', '城东村') },
    ]);
    expect(d.completedYesterday.talksHeld).toBe(1);
  });

  it('overdue items with the responsible cadre by name', () => {
    expect(d.overdue.total).toBe(240 - 4);
    expect(d.overdue.villageCount).toBe(40);
    const chengdong = d.overdue.villages.find((v) => v.township === '沁河镇' && v.village === '城东村')!;
    expect(chengdong.stages.map((s) => [s.name, s.days])).toEqual([
      ['推选选举委员会', 12],
      ['推荐', 7],
      ['选民登记', 2],
      ['资格审查', 2],
    ]);
    expect(chengdong.responsible[0]).toMatchObject({ name: cadreName('沁河镇', '城东村'), role: '干部' });
    expect(chengdong.responsible.some((p) => p.role === '工作组')).toBe(true);
    // Longest overdue first: 审计 is 22 days late wherever it is not done.
    expect(d.overdue.villages[0]!.maxDays).toBe(22);
    expect(d.overdue.villages.at(-1)!.village).toBe('城东村');
    const blocked = d.overdue.villages.find((v) => v.township === '灵空山镇' && v.village === '城西村')!;
    expect(blocked.stages.find((s) => s.name === '推选选举委员会')!.status).toBe('受阻');
    // Every cadre with an overdue village is named, with their count.
    const own = w.campaign.ids.cadres[0]![1]!; // 城东村's own cadre
    expect(d.overdue.byPerson.find((p) => p.openId === own)).toMatchObject({ role: '干部', items: 4, villageCount: 1, villages: ['沁河镇城东村'] });
    const extra = d.overdue.byPerson.find((p) => p.openId.startsWith('ou_cadre_extra') && p.villages.includes('沁河镇城东村'))!;
    expect(extra.villageCount).toBe(4); // also follows three villages with 6 overdue each
    expect(extra.items).toBe(4 + 3 * 6);
  });

  it('not reported: open items but nothing recorded since 11-02 — named, with the people', () => {
    // Activity since 11-02: 沁河镇城西村 (talk 11-04), 沁河镇城东村, 郭道镇城西村, 灵空山镇城西村, 郭道镇南关社区 (risk).
    expect(d.notReported.count).toBe(35);
    expect(d.notReported.since).toBe('2026-11-02');
    const names = d.notReported.villages.map((v) => `${v.township}${v.village}`);
    expect(names).not.toContain('沁河镇城西村');
    expect(names).not.toContain('郭道镇南关社区');
    expect(names).toContain('沁河镇南关社区');
    const nanguan = d.notReported.villages.find((v) => v.township === '沁河镇' && v.village === '南关社区')!;
    expect(nanguan.lastActivity).toBeNull();
    expect(nanguan.responsible.map((p) => p.name)).toContain(cadreName('沁河镇', '南关社区'));
    expect(d.notReported.people.find((p) => p.name === cadreName('沁河镇', '南关社区'))?.villages).toContain('沁河镇南关社区');
  });

  it('deadlines in the next 3 days (today included)', () => {
    expect(d.dueSoon).toMatchObject({ from: '2026-11-05', to: '2026-11-07', total: 0 });
    w.on('2026-11-06', 8);
    const next = buildDigest(w.ctx, countyLeader(), '2026-11-06');
    expect(next.dueSoon.total).toBe(40); // 选民名单公布, due 11-08
    expect(next.dueSoon.items[0]).toMatchObject({ kind: 'stage', what: '选民名单公布', deadline: '2026-11-08', daysLeft: 2 });
    expect(next.dueSoon.items[0]!.responsible.length).toBeGreaterThan(0);
  });

  it('talks by category, overdue ones named with the interviewer', () => {
    expect(d.talks).toMatchObject({ total: 43, held: 1, overdue: 3 });
    expect(d.talks.byCategory.find((c) => c.category === '选前谈话')).toMatchObject({ total: 40, held: 1, overdue: 0, rate: 1 / 40 });
    expect(d.talks.byCategory.find((c) => c.category === '五必谈·乡镇党委书记')).toMatchObject({ total: 3, held: 0, overdue: 3 });
    expect(d.talks.overdueList[0]).toMatchObject({ category: '五必谈·乡镇党委书记', days: 16, interviewers: [countyLeader().name] });
  });

  it('open risks, 四必查 first, then by severity', () => {
    expect(d.risks).toMatchObject({ open: 3, mustCheck: 1, mustCheckWithoutFollowup: 1 });
    expect(d.risks.items.map((r) => r.id)).toEqual([risks.mustCheck, risks.serious, risks.minor]);
    expect(d.risks.items[0]).toMatchObject({ mustCheck: true, mustReasons: '拉票贿选', village: '城东村', followups: 0, openedOn: '2026-11-03', ageDays: 2 });
    followUp(w, risks.mustCheck, '已约谈当事人');
    expect(buildDigest(w.ctx, countyLeader(), '2026-11-05').risks.mustCheckWithoutFollowup).toBe(0);
  });

  it('township ranking (晾晒): completion rate, then fewer overdue', () => {
    expect(d.ranking.level).toBe('township');
    expect(d.ranking.rows.map((r) => [r.rank, r.name, r.done, r.total, r.overdue, r.completedYesterday])).toEqual([
      [1, '沁河镇', 3, 224, 81, 2],
      [2, '郭道镇', 1, 208, 77, 0],
      [3, '灵空山镇', 0, 208, 78, 0],
    ]);
    expect(d.ranking.rows.every((r) => !r.own)).toBe(true);
  });

  it('a past day is reconstructed from completion dates', () => {
    const past = buildDigest(w.ctx, countyLeader(), '2026-11-03');
    expect(past.completion.done).toBe(2); // 城西村 10-12, 郭道镇城西村 11-01; 城东村's came on 11-04
    expect(past.overdue.villages.find((v) => v.township === '沁河镇' && v.village === '城东村')!.stages.map((s) => s.name)).toContain('审计');
    expect(past.completedYesterday.total).toBe(0);
  });
});

describe('scope', () => {
  it('a township leader sees their township only; the ranking shows the county’s townships as figures', () => {
    const leader = w.principal(w.campaign.ids.townshipLeaders[1]!); // 郭道镇
    const d = buildDigest(w.ctx, leader, '2026-11-05');
    expect(d.scope).toMatchObject({ kind: 'township', name: '郭道镇', county: '沁源县' });
    expect(d.villages).toBe(13);
    expect(new Set(d.overdue.villages.map((v) => v.township))).toEqual(new Set(['郭道镇']));
    expect(d.talks.total).toBe(14);
    expect(d.risks.items.map((r) => r.township)).toEqual(['郭道镇', '郭道镇']);
    expect(d.ranking.rows.find((r) => r.own)).toMatchObject({ name: '郭道镇', rank: 2 });
    // Nobody working only in another township is named anywhere, and no other township's village appears.
    const json = JSON.stringify(d);
    const others = w.campaign.people.filter((p) => p.township && p.township !== '郭道镇');
    expect(others.length).toBeGreaterThan(20);
    for (const p of others) {
      expect(json).not.toContain(p.openId);
      expect(json).not.toContain(`"${p.name}"`);
    }
    const otherIds = w.repos.roster.villages().filter((v) => v.township !== '郭道镇').map((v) => v.id);
    const ids = new Set([...d.overdue.villages.map((v) => v.villageId), ...d.notReported.villages.map((v) => v.villageId), ...d.risks.items.map((r) => r.villageId)]);
    for (const id of otherIds) expect(ids.has(id)).toBe(false);
  });

  it('cadres and people outside the roster get no digest', () => {
    expect(() => buildDigest(w.ctx, w.principal(w.campaign.ids.cadres[0]![0]!), '2026-11-05')).toThrow(/仅供领导/);
    expect(() => buildDigest(w.ctx, w.principal('ou_stranger'), '2026-11-05')).toThrow(/仅供领导/);
  });

  it('admins get the unanswered and down-voted questions and missed reminders; leaders do not', () => {
    const unanswered = [
      { id: 7, asked_at: Date.parse('2026-11-04T03:00:00Z'), asker_open_id: 'ou_x', question: '选民登记可以代登记吗？', abstained: 1, top_score: null, down_votes: 0, up_votes: 0 },
      { id: 8, asked_at: Date.parse('2026-11-04T05:00:00Z'), asker_open_id: 'ou_y', question: '候选人公示几天？', abstained: 0, top_score: 3, down_votes: 2, up_votes: 0 },
    ];
    const missedReminders = [{ openId: w.campaign.ids.cadres[0]![0]!, name: '刘伟', slot: '2026-11-05 09:00', items: 3 }];
    const admin = buildDigest(w.ctx, w.principal(w.campaign.ids.admin), '2026-11-05', { unanswered, missedReminders });
    expect(admin.admin?.unanswered).toEqual([
      { id: 7, askedAt: unanswered[0]!.asked_at, question: '选民登记可以代登记吗？', abstained: true, downVotes: 0 },
      { id: 8, askedAt: unanswered[1]!.asked_at, question: '候选人公示几天？', abstained: false, downVotes: 2 },
    ]);
    expect(admin.admin?.missedReminders).toEqual(missedReminders);
    expect(buildDigest(w.ctx, countyLeader(), '2026-11-05', { unanswered, missedReminders }).admin).toBeUndefined();
  });

  it('one digest per leader in a batch, leaders of the same county sharing one load', () => {
    const leaders = [w.campaign.ids.countyLeader, ...w.campaign.ids.townshipLeaders, w.campaign.ids.admin].map((id) => w.principal(id));
    const out = [...buildDigests(w.ctx, leaders, '2026-11-05')];
    expect(out.map((o) => o.leader.openId).sort()).toEqual(leaders.map((l) => l.openId).sort());
    for (const o of out) expect(o.data?.leader.openId).toBe(o.leader.openId);
    const single = buildDigest(w.ctx, leaders[1]!, '2026-11-05');
    expect(out.find((o) => o.leader.openId === leaders[1]!.openId)!.data!.overdue).toEqual(single.overdue);
  });
});

describe('周调度 (Monday 2026-11-09: week 11-02…11-08 against 10-26…11-01)', () => {
  it('compares stages completed, completion rate per township and new overdue', () => {
    w.on('2026-11-09', 8);
    const d = buildDigest(w.ctx, countyLeader(), '2026-11-09');
    expect(d.weekday).toBe('星期一');
    const wk = d.weekly!;
    expect(wk.windows).toEqual({ thisWeek: { from: '2026-11-02', to: '2026-11-08' }, prevWeek: { from: '2026-10-26', to: '2026-11-01' } });
    expect(wk.total).toMatchObject({ total: 640, completedThis: 2, completedPrev: 1, newOverdueThis: 120, newOverduePrev: 40 });
    expect(wk.total.rateThis).toBeCloseTo(4 / 640);
    expect(wk.total.ratePrev).toBeCloseTo(2 / 640);
    expect(wk.rows[0]).toMatchObject({ name: '沁河镇', completedThis: 2, completedPrev: 0 });
    expect(wk.rows[0]!.delta).toBeCloseTo(2 / 224);
    expect(wk.rows.find((r) => r.name === '郭道镇')).toMatchObject({ completedThis: 0, completedPrev: 1, delta: 0 });
    expect(wk).toMatchObject({ talksHeldThis: 1, talksHeldPrev: 0, risksOpenedThis: 2, risksOpenedPrev: 1, risksClosedThis: 0 });
  });
});

describe('structure of the new committees', () => {
  it('counts elected villages, compliance per target, and names the missing and the unmet', () => {
    w.on('2026-11-28');
    for (const [v, date] of [['城西村', '2026-11-28'], ['城东村', '2026-11-28']] as const) {
      for (const s of ['审计', '摸底研判', '推选选举委员会', '推荐', '选民登记', '资格审查', '选民名单公布', '考察公示', '选民名单异议处理', '承诺谈话', '候选人提名']) {
        if (!(v === '城东村' && (s === '审计' || s === '摸底研判'))) w.stage('沁河镇', v, s, '已完成', date);
      }
      w.stage('沁河镇', v, '村委会选举', '已完成', date);
    }
    recordStructure(w.ctx, { sourceId: 'st1', actor: w.campaign.ids.admin, village: w.village('沁河镇', '城西村'), input: { oneShoulder: true, graduates: 1, under35: 1, women: 0, partyRatio: 0.6 } });
    w.on('2026-11-29', 8);
    const d = buildDigest(w.ctx, countyLeader(), '2026-11-29');
    expect(d.structure).toMatchObject({ elected: 2, reported: 1, missingCount: 1, unmetCount: 1 });
    const t = (k: string) => d.structure.byTarget.find((x) => x.key === k)!;
    expect(t('oneShoulder')).toMatchObject({ met: 1, reported: 1, rate: 1 });
    expect(t('women')).toMatchObject({ met: 0, reported: 1, rate: 0 });
    expect(t('all')).toMatchObject({ met: 0, reported: 1 });
    expect(d.structure.missing).toEqual([{ villageId: w.village('沁河镇', '城东村').id, village: '城东村', township: '沁河镇', responsible: expect.arrayContaining([cadreName('沁河镇', '城东村')]) }]);
    expect(d.structure.unmet).toEqual([{ villageId: w.village('沁河镇', '城西村').id, village: '城西村', township: '沁河镇', unmet: ['女性'] }]);
  });
});
