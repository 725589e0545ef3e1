import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { UserError } from '../../src/errors.js';
import type { Db } from '../../src/store/db.js';
import { createWorkflowRepos, type WorkflowRepos } from '../../src/store/workflow-repos.js';
import { undoLast } from '../../src/workflow/changes.js';
import { recordStage } from '../../src/workflow/checkin.js';
import type { WorkflowContext } from '../../src/workflow/context.js';
import { loadPrincipal } from '../../src/workflow/permissions.js';
import { stageByKey } from '../../src/workflow/stage-templates.js';
import { recordStructure } from '../../src/workflow/structure.js';
import { recordTalk } from '../../src/workflow/talks.js';
import type { Village } from '../../src/workflow/types.js';
import { sampleCampaign, seedCampaign } from '../helpers/roster.js';
import { openTestDb } from '../helpers/store.js';
import { tempDir } from '../helpers/test-runtime.js';

/**
 * Issue 17 item 1: a check-in applies as of when it was sent. One older than the state
 * recorded for the same village/stage (talk, structure) does not overwrite it: audited as
 * superseded, its sender told in plain Chinese, nothing changed.
 */
const at = (hhmm: string, day = '2026-11-20') => Date.parse(`${day}T${hhmm}:00+08:00`);

let dir: string;
let db: Db;
let repos: WorkflowRepos;
let clock: ManualClock;
let ctx: WorkflowContext;
let village: Village;
let cadre: string;

beforeEach(() => {
  dir = tempDir('hj-order-');
  db = openTestDb(join(dir, 'huanjie.db'));
  const campaign = sampleCampaign({ townships: ['沁河镇'], villagesPerTownship: 2, communityEvery: 0 });
  seedCampaign(db, campaign);
  repos = createWorkflowRepos(db);
  clock = new ManualClock(at('10:30'));
  ctx = { repos, tz: 'Asia/Shanghai', clock };
  village = repos.roster.villages()[0]!;
  cadre = campaign.people.find((p) => p.role === '干部' && p.villages.includes(village.name))!.openId;
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const audit = () => stageByKey('村', 'audit')!;
const stage = (sourceId: string, status: '进行中' | '已完成' | '受阻', sentAt?: number, note?: string) =>
  recordStage(ctx, { sourceId, actor: cadre, actorName: '干部', village, stage: audit(), status, sentAt, note });
const refusal = (f: () => unknown): UserError => {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('not refused');
};
const superseded = (action: string) => db.prepare(`SELECT actor, target, detail FROM audit_log WHERE action = ?`).all(action) as { actor: string; target: string; detail: string }[];

describe('stage check-ins by the time they were sent', () => {
  it('an older 进行中 delivered after a newer 已完成 does not turn it back; the sender is told, the audit says superseded', () => {
    stage('om_new', '已完成', at('10:05'));
    const before = repos.plan.stage(village.id, 'audit');
    expect(before).toMatchObject({ status: '已完成', completed_on: '2026-11-20', as_of: at('10:05') });
    const e = refusal(() => stage('om_old', '进行中', at('10:02'), '推进中'));
    expect(e.userMessage).toBe(`您在 10:02 发出的登记晚于 10:05 的登记到达，未覆盖：${village.name}「审计」现在是“已完成”（11月20日）。如确需更改，请重新发送。`);
    expect(e.code).toBe('conflict');
    expect(repos.plan.stage(village.id, 'audit')).toEqual(before);
    expect(repos.changes.bySource('om_old')).toBeUndefined();
    const rows = superseded('checkin.stage.superseded');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: cadre, target: `village:${village.id}/stage:audit` });
    expect(rows[0]!.detail).toContain('source=om_old');
  });

  it('in order, both apply; the same instant is not older', () => {
    stage('om_a', '进行中', at('10:02'));
    stage('om_b', '已完成', at('10:05'));
    expect(repos.plan.stage(village.id, 'audit')?.status).toBe('已完成');
    stage('om_c', '受阻', at('10:05'), '同一刻');
    expect(repos.plan.stage(village.id, 'audit')).toMatchObject({ status: '受阻', as_of: at('10:05') });
    expect(superseded('checkin.stage.superseded')).toHaveLength(0);
  });

  it('a late message identical to the state is a duplicate, not a conflict', () => {
    stage('om_new', '已完成', at('10:05'));
    expect(refusal(() => stage('om_old', '已完成', at('10:02'))).userMessage).toMatch(/无需重复登记/);
    expect(superseded('checkin.stage.superseded')).toHaveLength(0);
  });

  it('the times carry the day when it is not today, and seconds within one minute', () => {
    stage('om_new', '已完成', at('10:05') + 40_000);
    expect(refusal(() => stage('om_old', '受阻', at('10:05') + 10_000)).userMessage).toMatch(/^您在 10:05:10 发出的登记晚于 10:05:40 的登记到达，未覆盖/);
    clock.set(at('09:00', '2026-11-21'));
    expect(refusal(() => stage('om_old2', '受阻', at('10:04'))).userMessage).toMatch(/^您在 11月20日 10:04 发出的登记晚于 11月20日 10:05 的登记到达/);
  });

  it('rows written before as_of existed (null) accept anything; 撤销 puts as_of back with the row', () => {
    db.prepare(`UPDATE wf_stage_progress SET as_of = NULL`).run();
    stage('om_1', '进行中', at('10:02'));
    stage('om_2', '已完成', at('10:05'));
    undoLast(ctx, cadre, 'om_undo');
    expect(repos.plan.stage(village.id, 'audit')).toMatchObject({ status: '进行中', as_of: at('10:02') });
    stage('om_3', '受阻', at('10:03'));
    expect(repos.plan.stage(village.id, 'audit')?.status).toBe('受阻');
  });

  it('今天 is the day the message was sent: 23:59:52 handled after midnight keeps its day', () => {
    clock.set(Date.parse('2026-11-21T00:00:05+08:00'));
    stage('om_eve', '已完成', Date.parse('2026-11-20T23:59:52+08:00'));
    expect(repos.plan.stage(village.id, 'audit')?.completed_on).toBe('2026-11-20');
  });
});

describe('talks and structures by the time they were sent', () => {
  it('an older 待谈 after a newer 已谈 is refused and audited', () => {
    const talk = repos.talks.all().find((t) => t.region_id === village.id && t.category === '选前谈话')!;
    const principal = loadPrincipal(repos.roster, { openId: cadre, isAdmin: false });
    recordTalk(ctx, talk, { sourceId: 'om_t_new', principal, subject: talk.subject, status: '已谈', signed: true, sentAt: at('10:05') });
    const e = refusal(() => recordTalk(ctx, repos.talks.get(talk.id)!, { sourceId: 'om_t_old', principal, subject: talk.subject, status: '待谈', sentAt: at('10:02') }));
    expect(e.userMessage).toBe(`您在 10:02 发出的登记晚于 10:05 的登记到达，未覆盖：与「${talk.subject}」的选前谈话现在是“已谈”（11月20日）。如确需更改，请重新发送。`);
    expect(repos.talks.get(talk.id)).toMatchObject({ status: '已谈', as_of: at('10:05') });
    expect(superseded('checkin.talk.superseded')).toHaveLength(1);
  });

  it('an older structure report after a newer one is refused and audited', () => {
    db.prepare(`INSERT INTO wf_stage_progress (village_id, stage_key, status, completed_on, note, updated_by, updated_at, as_of) VALUES (?, 'committee_election', '已完成', '2026-11-19', NULL, 'seed', 0, 0)`).run(village.id);
    recordStructure(ctx, { sourceId: 'om_s_new', actor: cadre, village, input: { women: 2 }, sentAt: at('10:05') });
    const e = refusal(() => recordStructure(ctx, { sourceId: 'om_s_old', actor: cadre, village, input: { women: 0 }, sentAt: at('10:02') }));
    expect(e.userMessage).toMatch(/^您在 10:02 发出的登记晚于 10:05 的登记到达，未覆盖：.*女性2名/);
    expect(repos.structure.get(village.id)).toMatchObject({ women: 2, as_of: at('10:05') });
    expect(superseded('structure.superseded')).toHaveLength(1);
  });
});
