import type { Db, SqliteDb } from '../src/store/db.js';
import { dialectOf } from '../src/store/sql.js';
import { analyzeAfterLoad } from './store.js';
import { addDays } from '../src/workflow/dates.js';
import { stagesFor } from '../src/workflow/stage-templates.js';
import { TALK_CATEGORIES } from '../src/workflow/talks.js';
import type { IsoDate, StageStatus, VillageType } from '../src/workflow/types.js';
import { rng } from '../tests/helpers/rng.js';

/**
 * A synthetic province written straight into the workflow tables (bulk
 * inserts in one transaction), for the digest and reminder benches:
 * counties of ~3,000 villages in ~30 townships, every village on the real
 * stage templates with progress that looks like a campaign on day `today`
 * (most early stages done, some late, a few blocked), talks, risks (some
 * 四必查), structures for elected villages, and a roster with leaders per
 * county and township, a work team per township and cadres per village.
 * Deterministic for a given seed.
 */
export interface ProvinceSpec {
  villages: number;
  people: number;
  talks: number;
  seed: number;
  /** Villages per county (default 3,000). */
  villagesPerCounty?: number;
  /** Townships per county (default 30). */
  townshipsPerCounty?: number;
  /** The campaign day the progress is drawn for (default 2026-11-10). */
  today?: IsoDate;
  /** Time zone of the recorded instants (default Asia/Shanghai, UTC+8). */
  utcOffsetHours?: number;
}

export interface ProvinceSummary {
  today: IsoDate;
  counties: { id: number; name: string; villages: number }[];
  townships: number;
  villages: number;
  people: number;
  assignments: number;
  talks: number;
  progressRows: number;
  risks: number;
  structures: number;
  /** open_ids by role: the county leaders (one per county, in county order), township leaders, admins. */
  leaders: { county: string[]; township: string[]; admin: string[] };
  ms: number;
}

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤';
const GIVEN = '伟芳娜敏静强磊军洋勇艳杰涛明超秀英华平刚桂英玉兰霞丽萍建国建华志强海燕红梅俊文斌辉鹏宇浩然';
const STEMS = '城西城东南关北关河西河东前进红旗新建太平永和长胜东风向阳和平团结光明幸福丰收胜利安乐兴隆富民清河柳林杨庄李庄王庄张庄刘家陈家石门青山白塔';

function pick2(s: string, i: number): string {
  const n = Math.floor(s.length / 2);
  return s.slice((i % n) * 2, (i % n) * 2 + 2);
}

export function generateProvince(db: Db, spec: ProvinceSpec): ProvinceSummary {
  const t0 = performance.now();
  const rand = rng(spec.seed);
  const perCounty = spec.villagesPerCounty ?? 3000;
  const nCounties = Math.max(1, Math.round(spec.villages / perCounty));
  const tpc = spec.townshipsPerCounty ?? 30;
  const today = spec.today ?? '2026-11-10';
  const offsetMs = (spec.utcOffsetHours ?? 8) * 3600_000;
  const at = (d: IsoDate, hour = 10) => Date.parse(`${d}T00:00:00Z`) - offsetMs + hour * 3600_000 + Math.floor(rand() * 3600_000);
  const personName = (i: number) => `${SURNAMES[i % SURNAMES.length]}${GIVEN[Math.floor(i / SURNAMES.length) % GIVEN.length]}${i >= SURNAMES.length * GIVEN.length ? Math.floor(i / (SURNAMES.length * GIVEN.length)) : ''}`;

  const s = {
    region: db.prepare(`INSERT INTO wf_regions (kind, name, parent_id, village_type, election_day) VALUES (?, ?, ?, ?, ?)`),
    person: db.prepare(`INSERT INTO wf_people (name, open_id, role, scope_id) VALUES (?, ?, ?, ?)`),
    assign: db.prepare(`INSERT OR IGNORE INTO wf_assignments (person_id, village_id) VALUES (?, ?)`),
    progress: db.prepare(`INSERT INTO wf_stage_progress (village_id, stage_key, status, completed_on, note, updated_by, updated_at) VALUES (?, ?, ?, ?, NULL, ?, ?)`),
    talk: db.prepare(`INSERT INTO wf_talks (category, subject, region_id, due_date, status, held_on, commitment_signed, note, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`),
    interviewer: db.prepare(`INSERT OR IGNORE INTO wf_talk_interviewers (talk_id, person_id) VALUES (?, ?)`),
    risk: db.prepare(
      `INSERT INTO wf_risks (village_id, category, severity, description, must_check, must_reasons, status, opened_by, opened_at, closed_by, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    followup: db.prepare(`INSERT INTO wf_risk_followups (risk_id, note, by, at) VALUES (?, ?, ?, ?)`),
    structure: db.prepare(`INSERT INTO wf_structures (village_id, one_shoulder, graduates, under35, women, party_ratio, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
  };

  const summary: ProvinceSummary = {
    today,
    counties: [],
    townships: 0,
    villages: 0,
    people: 0,
    assignments: 0,
    talks: 0,
    progressRows: 0,
    risks: 0,
    structures: 0,
    leaders: { county: [], township: [], admin: [] },
    ms: 0,
  };

  db.transaction(() => {
    let personSeq = 0;
    const addPerson = (role: string, scopeId: number | null, prefix: string): { id: number; openId: string } => {
      const openId = `ou_${prefix}_${personSeq}`;
      const id = Number(s.person.run(personName(personSeq), openId, role, scopeId).lastInsertRowid);
      personSeq++;
      summary.people++;
      return { id, openId };
    };
    for (let a = 0; a < 2; a++) summary.leaders.admin.push(addPerson('管理员', null, 'admin').openId);

    // Regions first, remembering each village's township for the roster.
    const villages: { id: number; type: VillageType; electionDay: IsoDate; townshipIdx: number }[] = [];
    const townships: { id: number; villages: number[] }[] = [];
    let vLeft = spec.villages;
    for (let c = 0; c < nCounties; c++) {
      const countyId = Number(s.region.run('county', `第${c + 1}县`, null, null, null).lastInsertRowid);
      const nv = c === nCounties - 1 ? vLeft : Math.min(vLeft, perCounty);
      vLeft -= nv;
      summary.counties.push({ id: countyId, name: `第${c + 1}县`, villages: nv });
      summary.leaders.county.push(addPerson('领导', countyId, `leader_c${c}`).openId);
      for (let t = 0; t < tpc; t++) {
        const tid = Number(s.region.run('township', `${pick2(STEMS, c * 7 + t)}${t + 1}镇`, countyId, null, null).lastInsertRowid);
        townships.push({ id: tid, villages: [] });
        summary.townships++;
        summary.leaders.township.push(addPerson('领导', tid, `leader_t${townships.length - 1}`).openId);
        // Election days spread over three weeks by township.
        const electionDay = addDays('2026-11-20', (c * 3 + t) % 21);
        const n = Math.floor(nv / tpc) + (t < nv % tpc ? 1 : 0);
        for (let j = 0; j < n; j++) {
          const type: VillageType = j % 5 === 4 ? '社区' : '村';
          const id = Number(s.region.run('village', `${pick2(STEMS, j)}${Math.floor(j / Math.floor(STEMS.length / 2)) + 1}${type}`, tid, type, electionDay).lastInsertRowid);
          villages.push({ id, type, electionDay, townshipIdx: townships.length - 1 });
          townships[townships.length - 1]!.villages.push(id);
          summary.villages++;
        }
      }
    }

    // Roster: a work team per township (all its villages), cadres spread over the villages.
    const cadresOf = new Map<number, { id: number; openId: string }[]>();
    townships.forEach((t, ti) => {
      const team = addPerson('工作组', t.id, `team_t${ti}`);
      for (const v of t.villages) {
        s.assign.run(team.id, v);
        summary.assignments++;
      }
    });
    let vi = 0;
    while (summary.people < spec.people && villages.length) {
      const v = villages[vi % villages.length]!;
      const cadre = addPerson('干部', townships[v.townshipIdx]!.id, 'cadre');
      s.assign.run(cadre.id, v.id);
      summary.assignments++;
      const l = cadresOf.get(v.id);
      if (l) l.push(cadre);
      else cadresOf.set(v.id, [cadre]);
      vi++;
    }

    // Progress as of `today`: early stages mostly done on time, some late, some blocked.
    for (const v of villages) {
      const cadre = cadresOf.get(v.id)?.[0]?.openId ?? 'ou_unknown';
      const diligence = rand(); // some villages lag behind
      let prevDone = true;
      for (const st of stagesFor(v.type)) {
        if (st.optional) continue;
        const deadline = addDays(v.electionDay, st.offsetDays);
        const daysToDeadline = (Date.parse(deadline) - Date.parse(today)) / 86_400_000;
        let status: StageStatus | null = null;
        let completedOn: IsoDate | null = null;
        if (prevDone && daysToDeadline < 6) {
          const r = rand();
          const pDone = daysToDeadline < 0 ? 0.55 + 0.45 * diligence : 0.25 * diligence;
          if (r < pDone) {
            status = '已完成';
            const early = Math.floor(rand() * 6) - (diligence < 0.3 ? -3 : 0);
            completedOn = addDays(deadline, -early);
            if (completedOn > today) completedOn = today;
          } else if (r < pDone + 0.15) status = '进行中';
          else if (r < pDone + 0.18) status = '受阻';
        }
        if (status) {
          const recorded = completedOn ?? addDays(today, -Math.floor(rand() * 6));
          s.progress.run(v.id, st.key, status, completedOn, cadre, at(recorded));
          summary.progressRows++;
        }
        prevDone = status === '已完成';
        if (st.key === 'committee_election' && status === '已完成' && rand() < 0.85) {
          const count = () => (rand() < 0.9 ? 1 + Math.floor(rand() * 2) : 0);
          s.structure.run(v.id, rand() < 0.93 ? 1 : 0, count(), count(), count(), Math.round((0.4 + rand() * 0.4) * 100) / 100, cadre, at(completedOn!));
          summary.structures++;
        }
      }
    }

    // Talks: a 五必谈·乡镇党委书记 per township, the rest spread over villages.
    const categories = TALK_CATEGORIES.filter((c) => c.name !== '五必谈·乡镇党委书记');
    const heldOrNot = (due: IsoDate) => {
      const late = due < today;
      const held = rand() < (late ? 0.8 : 0.3);
      const heldOn = held ? (late ? addDays(due, -Math.floor(rand() * 5)) : addDays(today, -Math.floor(rand() * 4))) : null;
      return { held, heldOn: heldOn && heldOn > today ? today : heldOn };
    };
    let talkSeq = 0;
    for (const [ti, t] of townships.entries()) {
      if (summary.talks >= spec.talks) break;
      const due = addDays('2026-10-20', ti % 10);
      const h = heldOrNot(due);
      const leader = summary.leaders.county[Math.floor(ti / tpc)]!;
      const id = Number(s.talk.run('五必谈·乡镇党委书记', `书记${ti}`, t.id, due, h.held ? '已谈' : '待谈', h.heldOn, null, h.held ? leader : null, h.heldOn ? at(h.heldOn) : null).lastInsertRowid);
      const lid = (db.prepare(`SELECT id FROM wf_people WHERE open_id = ?`).get(leader) as { id: number }).id;
      s.interviewer.run(id, lid);
      summary.talks++;
    }
    for (let k = 0; summary.talks < spec.talks && villages.length; k++) {
      const v = villages[k % villages.length]!;
      const cat = categories[Math.floor(rand() * categories.length)]!;
      const due = addDays(v.electionDay, cat.name === '选前谈话' ? -14 : cat.name.startsWith('五必谈') ? -35 : cat.name === '任前谈话' ? 5 : 10);
      const h = heldOrNot(due);
      const cadre = cadresOf.get(v.id)?.[0];
      const id = Number(
        s.talk.run(cat.name, `对象${talkSeq++}`, v.id, due, h.held ? '已谈' : '待谈', h.heldOn, cat.commitment && h.held ? (rand() < 0.95 ? 1 : 0) : null, h.held ? (cadre?.openId ?? null) : null, h.heldOn ? at(h.heldOn) : null)
          .lastInsertRowid,
      );
      if (cadre) s.interviewer.run(id, cadre.id);
      summary.talks++;
    }

    // Risks: about 3 % of villages, a third of them 四必查, some closed after a follow-up.
    for (const v of villages) {
      if (rand() >= 0.03) continue;
      const must = rand() < 0.33;
      const opened = addDays(today, -Math.floor(rand() * 30));
      const closed = rand() < 0.4;
      const cadre = cadresOf.get(v.id)?.[0]?.openId ?? 'ou_unknown';
      const id = Number(
        s.risk
          .run(v.id, must ? '拉票贿选' : '群众矛盾', must ? '较重' : '一般', must ? '有群众反映拉票' : '宅基地纠纷', must ? 1 : 0, must ? '拉票贿选' : null, closed ? '已结' : '未结', cadre, at(opened), closed ? cadre : null, closed ? at(addDays(opened, 2)) : null)
          .lastInsertRowid,
      );
      if (closed || rand() < 0.5) s.followup.run(id, '已核查', cadre, at(addDays(opened, 1)));
      summary.risks++;
    }
  }).immediate();
  // Move everything from the WAL into the database file, as a running service's checkpoints would.
  if (dialectOf(db) === 'sqlite') (db as SqliteDb).pragma('wal_checkpoint(TRUNCATE)');
  else analyzeAfterLoad(db);
  summary.ms = performance.now() - t0;
  return summary;
}
