import { join } from 'node:path';
import { ManualClock } from '../../../src/clock.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { openTestDb } from '../../helpers/store.js';
import { createWorkflowRepos, type WorkflowRepos } from '../../../src/store/workflow-repos.js';
import { recordStage } from '../../../src/workflow/checkin.js';
import type { WorkflowContext } from '../../../src/workflow/context.js';
import { findStage } from '../../../src/workflow/lookup.js';
import { loadPrincipal, type Principal } from '../../../src/workflow/permissions.js';
import { openRisk, followUpRisk } from '../../../src/workflow/risks.js';
import { recordTalk } from '../../../src/workflow/talks.js';
import type { StageStatus, Village } from '../../../src/workflow/types.js';
import { sampleCampaign, seedCampaign, type Campaign } from '../../helpers/roster.js';
import { tempDir } from '../../helpers/test-runtime.js';

/**
 * The issue-5 campaign: 3 townships (沁河镇 14, 郭道镇 13, 灵空山镇 13
 * villages), 60 people, everyone voting on 2026-11-28, on a real SQLite file.
 * Check-ins go through the domain functions with the clock set to the day
 * they happen, as a cadre would send them.
 */
export interface DigestWorld {
  db: Db;
  repos: WorkflowRepos;
  clock: ManualClock;
  ctx: WorkflowContext;
  campaign: Campaign;
  village(township: string, name: string): Village;
  principal(openId: string): Principal;
  /** Sets the clock to 10:00 (Asia/Shanghai) of a day. */
  on(day: string, hour?: number): void;
  stage(township: string, village: string, stage: string, status?: StageStatus, date?: string): string;
  close(): void;
}

let seq = 0;

export function digestWorld(): DigestWorld {
  const dir = tempDir('hj-digest-');
  const db = openTestDb(join(dir, 'huanjie.db'));
  const repos = createWorkflowRepos(db);
  const campaign = sampleCampaign({ townships: 3, villagesPerTownship: [14, 13, 13], extraCadres: 12 });
  seedCampaign(repos, campaign);
  const clock = new ManualClock(Date.parse('2026-10-01T02:00:00Z'));
  const ctx: WorkflowContext = { repos, tz: 'Asia/Shanghai', clock };
  const village = (township: string, name: string) => {
    const v = repos.roster.villages().find((x) => x.township === township && x.name === name);
    if (!v) throw new Error(`no village ${township}${name}`);
    return v;
  };
  const cadreOf = (v: Village) => repos.roster.assignees(v.id).find((p) => p.role === '干部')!;
  return {
    db,
    repos,
    clock,
    ctx,
    campaign,
    village,
    principal: (openId) => loadPrincipal(repos.roster, { openId, isAdmin: campaign.ids.admin === openId }),
    on(day, hour = 10) {
      clock.set(Date.parse(`${day}T${String(hour - 8).padStart(2, '0')}:00:00Z`));
    },
    stage(township, name, stageName, status = '已完成', date) {
      const v = village(township, name);
      const cadre = cadreOf(v);
      return recordStage(ctx, { sourceId: `t${seq++}`, actor: cadre.openId!, actorName: cadre.name, village: v, stage: findStage(v.type, stageName), status, date }).summary;
    },
    close: () => db.close(),
  };
}

/** Records a held talk for a subject as its interviewer. */
export function holdTalk(w: DigestWorld, subject: string, signed = true): void {
  const talk = w.repos.talks.all().find((t) => t.subject === subject)!;
  const interviewer = w.repos.roster.person(talk.interviewer_ids[0]!)!;
  recordTalk(w.ctx, talk, { sourceId: `talk${seq++}`, principal: w.principal(interviewer.openId!), subject, status: '已谈', signed });
}

export function addRisk(w: DigestWorld, township: string, name: string, category: string, description: string, severity?: '一般' | '较重' | '严重'): number {
  const v = w.village(township, name);
  const r = openRisk(w.ctx, { sourceId: `risk${seq++}`, actor: 'ou_admin_0001', village: v, category, severity, description, mustCheck: false });
  return Number(/#(\d+)/.exec(r.summary)![1]);
}

export function followUp(w: DigestWorld, id: number, note: string): void {
  const risk = w.repos.risks.get(id)!;
  followUpRisk(w.ctx, { sourceId: `fu${seq++}`, actor: 'ou_admin_0001', risk, village: w.repos.roster.village(risk.village_id)!, note });
}
