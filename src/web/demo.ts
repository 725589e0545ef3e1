import { rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '../runtime.js';
import { dropPgSchema } from '../store/db.js';
import { recordStage } from '../workflow/checkin.js';
import { today, type WorkflowContext } from '../workflow/context.js';
import { addDays } from '../workflow/dates.js';
import { runImport } from '../workflow/import/index.js';
import type { SheetData } from '../workflow/import/sheets.js';
import { loadPrincipal } from '../workflow/permissions.js';
import { stagesFor } from '../workflow/stage-templates.js';
import { recordTalk } from '../workflow/talks.js';
import type { IsoDate } from '../workflow/types.js';

/**
 * 演示数据 for the trial console when no roster has been imported.
 *
 * Kept out of real data by construction: the demo lives in its own database,
 * `DATA_DIR/demo/huanjie.db` (on PostgreSQL the schema `<DATABASE_SCHEMA>_demo`), rebuilt from scratch the first time the
 * console needs it after the service starts, run by a second, always-offline
 * runtime (no Lark client, no scheduler), so nothing of it can reach Lark,
 * the real roster, the real digests or the real dashboard. The county is called 演示县 and every
 * open_id starts with ou_demo_. As soon as a real roster is imported, the
 * console switches to the real database and the demo is no longer used.
 */
export const DEMO_COUNTY = '演示县';
export const DEMO_MARK = '演示数据';

const TOWNSHIPS: { name: string; electionIn: number; villages: string[] }[] = [
  { name: '东城镇', electionIn: 8, villages: ['城西村', '城东村', '南关社区', '河西村'] },
  { name: '西河乡', electionIn: 14, villages: ['前进村', '红旗村', '太平社区', '永和村'] },
];
const CADRES = ['张伟', '王芳', '李娜', '赵敏', '刘强', '陈静', '杨磊', '黄军'];

export interface DemoPerson {
  name: string;
  openId: string;
  role: '管理员' | '领导' | '干部' | '工作组';
  township: string;
  villages: string[];
}

export function demoPeople(): DemoPerson[] {
  const people: DemoPerson[] = [
    { name: '换届办（演示）', openId: 'ou_demo_admin', role: '管理员', township: '', villages: [] },
    { name: '周县长', openId: 'ou_demo_county_leader', role: '领导', township: '', villages: [] },
  ];
  TOWNSHIPS.forEach((t, ti) => {
    people.push({ name: ti === 0 ? '吴书记' : '徐书记', openId: `ou_demo_leader_t${ti}`, role: '领导', township: t.name, villages: [] });
    people.push({ name: ti === 0 ? '孙组长' : '马组长', openId: `ou_demo_team_t${ti}`, role: '工作组', township: t.name, villages: t.villages });
    t.villages.forEach((v, vi) => {
      people.push({ name: CADRES[ti * 4 + vi]!, openId: `ou_demo_cadre_t${ti}_v${vi}`, role: '干部', township: t.name, villages: [v] });
    });
  });
  return people;
}

function sheets(day: IsoDate): SheetData[] {
  const people = demoPeople();
  const sheet = (name: string, rows: Record<string, string>[]): SheetData => ({
    name,
    headers: Object.keys(rows[0]!),
    rows: rows.map((cells, i) => ({ row: i + 2, cells })),
  });
  const villages = TOWNSHIPS.flatMap((t) =>
    t.villages.map((v) => ({ 县: DEMO_COUNTY, 乡镇: t.name, 村社区: v, 类型: v.endsWith('社区') ? '社区' : '村', 选举日: addDays(day, t.electionIn) })),
  );
  const talks = TOWNSHIPS.flatMap((t, ti) => [
    ...t.villages.map((v, vi) => ({ 谈话类别: '选前谈话', 谈话对象: `${v.slice(0, 2)}候选人`, 村社区: v, 谈话人: CADRES[ti * 4 + vi]!, 截止日期: addDays(day, vi - 2), 乡镇: t.name })),
    { 谈话类别: '五必谈·乡镇党委书记', 谈话对象: `${t.name}党委书记`, 村社区: t.name, 谈话人: '周县长', 截止日期: addDays(day, -5 + ti * 10), 乡镇: t.name },
  ]);
  return [
    sheet(
      '人员',
      people.map((p) => ({ 姓名: p.name, 飞书open_id: p.openId, 角色: p.role, 县: DEMO_COUNTY, 乡镇: p.township, 负责村社区: p.villages.join('、') })),
    ),
    sheet('村社区', villages),
    sheet('谈话', talks),
  ];
}

/** Imports the demo roster and records some progress, so the digest and dashboard have something to show. */
export function seedDemo(ctx: WorkflowContext): void {
  const day = today(ctx);
  const outcome = runImport(ctx.repos, { sheets: sheets(day), issues: [] }, { actor: 'demo', sourceId: `demo:${day}`, fileName: DEMO_MARK, now: ctx.clock.now() });
  if (!outcome.ok) throw new Error('demo roster does not import: ' + outcome.issues.slice(0, 3).map((i) => i.reason).join('; '));
  const roster = ctx.repos.roster;
  const cadreOf = new Map(demoPeople().filter((p) => p.role === '干部').map((p) => [p.villages[0]!, p]));
  let n = 0;
  roster.villages().forEach((v, vi) => {
    const cadre = cadreOf.get(v.name);
    if (!cadre) return;
    // Villages keep up to a different point: some are on time, some fall behind (逾期).
    const lag = [0, 1, 3, 0, 2, 0, 1, 4][vi % 8]!;
    const stages = stagesFor(v.type).filter((s) => !s.optional && v.electionDay);
    const due = stages.filter((s) => addDays(v.electionDay!, s.offsetDays) < day);
    const doneCount = Math.max(0, due.length - lag);
    for (const [i, s] of stages.entries()) {
      const deadline = addDays(v.electionDay!, s.offsetDays);
      const date = addDays(deadline, -((vi + i) % 3));
      const status = i < doneCount ? '已完成' : i === doneCount && lag > 0 ? '进行中' : undefined;
      if (!status) break;
      recordStage(ctx, {
        sourceId: `demo:stage:${n++}`,
        actor: cadre.openId,
        actorName: cadre.name,
        village: v,
        stage: s,
        status,
        date: status === '已完成' ? (date < day ? date : addDays(day, -1)) : undefined,
      });
    }
  });
  // Half of the talks that were due are held.
  for (const t of ctx.repos.talks.all()) {
    if (!t.due_date || t.due_date >= day || t.id % 2 === 0) continue;
    const interviewer = t.interviewer_ids[0] !== undefined ? roster.person(t.interviewer_ids[0]) : undefined;
    if (!interviewer?.openId) continue;
    const principal = loadPrincipal(roster, { openId: interviewer.openId, isAdmin: false });
    recordTalk(ctx, t, { sourceId: `demo:talk:${t.id}`, principal, subject: t.subject, status: '已谈', date: t.due_date, ...(t.category === '选前谈话' ? { signed: true } : {}) });
  }
}

/** The demo's PostgreSQL schema: the real one's name with _demo (never the real one). */
export function demoSchema(realSchema: string): string {
  return `${realSchema}_demo`;
}

/**
 * The demo runtime: created on first use, in its own database, offline, with
 * the policy library indexed. Stopped with the web app.
 */
export class DemoHost {
  private pending?: Promise<Runtime>;
  private rt?: Runtime;

  constructor(private readonly main: Runtime) {}

  get dir(): string {
    return join(this.main.config.dataDir, 'demo');
  }

  get(): Promise<Runtime> {
    this.pending ??= this.create().catch((e: unknown) => {
      this.pending = undefined;
      throw e;
    });
    return this.pending;
  }

  private async create(): Promise<Runtime> {
    const dir = this.dir;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const base = this.main.config;
    // On PostgreSQL the demo's database is a schema of its own beside the real one, rebuilt the same way.
    const databaseSchema = demoSchema(base.databaseSchema);
    if (base.databaseUrl) dropPgSchema(base.databaseUrl, databaseSchema);
    const config = {
      ...base,
      dataDir: dir,
      dbFile: join(dir, 'huanjie.db'),
      databaseSchema,
      offline: true,
      lark: { ...base.lark, appId: undefined, appSecret: undefined, eventMode: 'webhook' as const },
      adminOpenIds: [],
      dashboardSecret: undefined,
    };
    const logger = this.main.logger.child({ component: 'console-demo' });
    const rt = new Runtime({ config, logger, clock: this.main.clock, noReceiver: true, noServices: true });
    try {
      await rt.start();
      seedDemo({ repos: rt.workflow.repos, tz: config.tz, clock: rt.clock });
    } catch (e) {
      await rt.stop({ flushMs: 0 });
      throw e;
    }
    logger.info({ dir }, '试用页面：花名册为空，使用演示数据（独立数据库，不影响正式数据）');
    this.rt = rt;
    return rt;
  }

  async stop(): Promise<void> {
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    try {
      const rt = await p;
      await rt.stop({ flushMs: 0 });
    } catch {
      // It never started.
    }
    this.rt = undefined;
  }
}
