import { join } from 'node:path';
import { ManualClock } from '../../../src/clock.js';
import type { Db } from '../../../src/store/db.js';
import { createWorkflowRepos, type WorkflowRepos } from '../../../src/store/workflow-repos.js';
import type { WorkflowContext } from '../../../src/workflow/context.js';
import { addDays } from '../../../src/workflow/dates.js';
import { loadPrincipal, type Principal } from '../../../src/workflow/permissions.js';
import { openRisk } from '../../../src/workflow/risks.js';
import { stagesFor } from '../../../src/workflow/stage-templates.js';
import type { StageStatus } from '../../../src/workflow/types.js';
import { rng } from '../../helpers/rng.js';
import { campaignRows, sampleCampaign, seedCampaign, toSheetData, type Campaign } from '../../helpers/roster.js';
import { runImport } from '../../../src/workflow/import/index.js';
import { openTestDb } from '../../helpers/store.js';
import { tempDir } from '../../helpers/test-runtime.js';

/**
 * A county as a county office would export it mid-campaign: 沁源县, 6
 * townships, 50 villages (every third a 社区), elections staggered from
 * 2026-11-28 to 2026-12-12 by township, seen on 2026-11-20 at 17:05 Shanghai
 * time. Stages are done in template order, most on time, some late, some
 * 受阻, a few villages behind (deterministic: a seeded PRNG). Used by the
 * export tests and by the PDF check (scripts in the test, soffice).
 */
export const EXPORT_DAY = '2026-11-20';
/** 2026-11-20 17:05 in Asia/Shanghai. */
export const EXPORT_NOW = Date.parse('2026-11-20T09:05:00Z');

export interface ExportWorld {
  dir: string;
  db: Db;
  repos: WorkflowRepos;
  clock: ManualClock;
  ctx: WorkflowContext;
  campaign: Campaign;
  principal(openId: string): Principal;
  close(): void;
}

/**
 * `secondCounty`: a second, smaller county (沁县: 新店镇 and 漳源镇, 3 villages
 * each, its own leaders, nothing done yet) for the province-wide admin views.
 */
export function exportWorld(opts: { dir?: string; db?: Db; villagesPerTownship?: number[]; secondCounty?: boolean } = {}): ExportWorld {
  const dir = opts.dir ?? tempDir('hj-export-');
  // A runtime's database (the chat and console tests) or a file of its own.
  const db = opts.db ?? openTestDb(join(dir, 'huanjie.db'));
  const repos = createWorkflowRepos(db);
  const per = opts.villagesPerTownship ?? [10, 9, 8, 8, 7, 8];
  const firstOf: number[] = [];
  per.reduce((n, x, i) => ((firstOf[i] = n), n + x), 0);
  const townshipOf = (vi: number) => firstOf.findLastIndex((f) => f <= vi);
  const campaign = sampleCampaign({ townships: per.length, villagesPerTownship: per, extraCadres: 6, electionDay: (vi) => addDays('2026-11-28', townshipOf(vi) * 3) });
  if (opts.secondCounty) {
    const other = sampleCampaign({ county: '沁县', townships: ['新店镇', '漳源镇'], villagesPerTownship: 3, electionDay: '2026-12-20' });
    // Its own people: open_ids and names that do not meet the first county's.
    const rename = (n: string) => `${n}乙`;
    other.people = other.people.filter((p) => p.role !== '管理员').map((p) => ({ ...p, name: rename(p.name), openId: p.openId.replace(/^ou_/, 'ou_qx_') }));
    other.talks = other.talks.map((t) => ({ ...t, interviewers: t.interviewers.map(rename) }));
    const a = campaignRows(campaign);
    const b = campaignRows(other);
    const rows = Object.fromEntries(Object.keys(a).map((k) => [k, [...a[k]!, ...b[k]!]]));
    const o = runImport(repos, { sheets: toSheetData(rows), issues: [] }, { actor: 'test', sourceId: 'seed:export-world', fileName: 'seed', now: EXPORT_NOW });
    if (!o.ok) throw new Error('export world does not import: ' + o.issues.slice(0, 5).map((i) => `${i.sheet}:${i.row}:${i.column}:${i.reason}`).join(' | '));
  } else seedCampaign(repos, campaign);
  const clock = new ManualClock(EXPORT_NOW);
  const ctx: WorkflowContext = { repos, tz: 'Asia/Shanghai', clock };
  seedProgress(repos, campaign);
  return {
    dir,
    db,
    repos,
    clock,
    ctx,
    campaign,
    principal: (openId) => loadPrincipal(repos.roster, { openId, isAdmin: campaign.ids.admin === openId }),
    close: () => {
      if (!opts.db) db.close();
    },
  };
}

/** Check-ins as of EXPORT_DAY: each village works through its stages until it falls behind. */
function seedProgress(repos: WorkflowRepos, c: Campaign): void {
  const r = rng(20261120);
  const byName = new Map(repos.roster.villages().map((v) => [`${v.township}|${v.name}`, v]));
  c.villages.forEach((cv, i) => {
    const v = byName.get(`${cv.township}|${cv.name}`);
    if (!v) return;
    const cadre = c.ids.cadres[c.townships.indexOf(cv.township)]?.[0] ?? c.ids.admin;
    // Behind villages: a slow one per township; the rest mostly on time.
    const pace = i % 9 === 4 ? 0.45 : 0.92;
    for (const s of stagesFor(v.type).filter((x) => !x.optional)) {
      const deadline = addDays(cv.electionDay, s.offsetDays);
      if (deadline > addDays(EXPORT_DAY, 2)) break;
      if (r() > pace) {
        const status: StageStatus | null = r() < 0.35 ? '受阻' : r() < 0.6 ? '进行中' : null;
        if (status) repos.plan.setStage({ village_id: v.id, stage_key: s.key, status, completed_on: null, note: status === '受阻' ? '候选人资格有争议' : null, updated_by: cadre, updated_at: at(EXPORT_DAY, 6) });
        break;
      }
      let on = addDays(deadline, Math.floor(r() * 5) - 3);
      if (on > EXPORT_DAY) on = EXPORT_DAY;
      repos.plan.setStage({ village_id: v.id, stage_key: s.key, status: '已完成', completed_on: on, note: null, updated_by: cadre, updated_at: at(on, 2 + Math.floor(r() * 8)) });
    }
  });
  const ctx: WorkflowContext = { repos, tz: 'Asia/Shanghai', clock: new ManualClock(at('2026-11-12', 3)) };
  const villages = repos.roster.villages();
  for (const [k, v] of [villages[3]!, villages[17]!, villages[31]!].entries()) {
    openRisk(ctx, { sourceId: `export-risk-${k}`, actor: c.ids.admin, village: v, category: k === 0 ? '信访' : '拉票贿选', severity: k === 1 ? '严重' : '一般', description: k === 0 ? '有群众反映选民登记遗漏外出务工人员' : '有人反映候选人宴请拉票，正在核实', mustCheck: k === 1 });
  }
}

/** A UTC moment at an hour of a Shanghai day. */
function at(day: string, hourShanghai: number): number {
  return Date.parse(`${day}T00:00:00Z`) + (hourShanghai - 8) * 3600_000;
}
