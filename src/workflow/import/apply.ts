import { inTransaction } from '../../store/db.js';
import { cancelPendingTo } from '../../store/outbox-cancel.js';
import type { WorkflowRepos } from '../../store/workflow-repos.js';
import type { RosterChanges } from './roster-changes.js';
import type { ImportPlan, VillageKey } from './validate.js';

/**
 * Writes a validated plan in one transaction: regions, villages, people and
 * their villages, deadline overrides, talks. Re-importing updates in place
 * (people as validation matched them: by open_id, else phone, else email;
 * villages by county/township/name; talks by category,
 * subject and place). Nothing is deleted: the confirmed roster changes
 * (roster-changes.ts) rename villages in place and mark dropped people
 * removed, their villages taken from them and their queued messages
 * cancelled. Each created or changed row gets an audit entry with before and after.
 */
export interface ImportCounts {
  regions: { created: number };
  villages: { created: number; updated: number; unchanged: number };
  people: { created: number; updated: number; unchanged: number };
  overrides: { created: number; updated: number; unchanged: number };
  talks: { created: number; updated: number; unchanged: number };
  /** Confirmed roster changes (absent in records written before issue 17). */
  roster?: { removed: number; renamed: number; cancelledMessages: number };
}

const counter = () => ({ created: 0, updated: 0, unchanged: 0 });

/**
 * `record` runs inside the same transaction, after the rows are written: the
 * import's own record (wf_imports) commits with the data or not at all, so a
 * crash can never leave an applied import that a re-run would apply again and
 * answer with counts of nothing changed.
 */
export function applyImport(
  repos: WorkflowRepos,
  plan: ImportPlan,
  actor: string,
  at: number,
  fileName: string,
  record?: (counts: ImportCounts) => void,
  changes?: RosterChanges,
): ImportCounts {
  const { roster, plan: planRepo, talks, audit } = repos;
  const counts: ImportCounts = { regions: { created: 0 }, villages: counter(), people: counter(), overrides: counter(), talks: counter(), roster: { removed: 0, renamed: 0, cancelledMessages: 0 } };
  const log = (action: string, target: string, before: unknown, after: unknown) =>
    audit.record({ at, actor, action, target, before, after, detail: `import ${fileName}` });

  return inTransaction(repos.db, () => {
    const countyIds = new Map<string, number>();
    const townshipIds = new Map<string, number>();
    const county = (name: string) => {
      let id = countyIds.get(name);
      if (id === undefined) {
        const r = roster.ensureRegion('county', null, name);
        if (r.created) counts.regions.created++, log('import.region', `county:${r.id}`, null, { kind: 'county', name });
        countyIds.set(name, (id = r.id));
      }
      return id;
    };
    const township = (c: string, t: string) => {
      const k = `${c}\u0000${t}`;
      let id = townshipIds.get(k);
      if (id === undefined) {
        const r = roster.ensureRegion('township', county(c), t);
        if (r.created) counts.regions.created++, log('import.region', `township:${r.id}`, null, { kind: 'township', county: c, name: t });
        townshipIds.set(k, (id = r.id));
      }
      return id;
    };
    // Every person, deadline and talk names its villages again: one lookup per village, not per mention.
    const villageIds = new Map<string, number>();
    const vkey = (county: string, township: string, name: string) => `${county}\u0000${township}\u0000${name}`;
    const villageId = (k: VillageKey): number => {
      const key = vkey(k.county, k.township, k.name);
      let id = villageIds.get(key);
      if (id === undefined) {
        const v = roster.findRegion('village', township(k.county, k.township), k.name);
        if (!v) throw new Error(`village ${k.township}${k.name} vanished during import`);
        villageIds.set(key, (id = v.id));
      }
      return id;
    };

    // Renames first: the renamed row is then found under its new name, and updated like any other.
    for (const r of changes?.renames ?? []) {
      roster.renameVillage(r.villageId, r.to);
      counts.roster!.renamed++;
      log('import.rename', `village:${r.villageId}`, { name: r.from }, { name: r.to });
    }

    for (const v of plan.villages) {
      const tid = township(v.county, v.township);
      const existing = roster.findRegion('village', tid, v.name);
      if (!existing) {
        const id = roster.insertVillage(tid, v.name, v.type, v.electionDay);
        villageIds.set(vkey(v.county, v.township, v.name), id);
        counts.villages.created++;
        log('import.village', `village:${id}`, null, { county: v.county, township: v.township, name: v.name, type: v.type, electionDay: v.electionDay });
        continue;
      }
      villageIds.set(vkey(v.county, v.township, v.name), existing.id);
      const cur = roster.village(existing.id)!;
      if (cur.type === v.type && cur.electionDay === v.electionDay) {
        counts.villages.unchanged++;
        continue;
      }
      roster.updateVillage(existing.id, v.type, v.electionDay);
      counts.villages.updated++;
      log('import.village', `village:${existing.id}`, { type: cur.type, electionDay: cur.electionDay }, { type: v.type, electionDay: v.electionDay });
    }

    // Each 人员 row's person id, by plan index: talks name their interviewers by it.
    const rowIds: number[] = [];
    for (const p of plan.people) {
      const scopeId = p.township ? township(p.county, p.township) : county(p.county);
      const vids = [...new Set(p.villages.map(villageId))].sort((a, b) => a - b);
      const cur = p.existingId === null ? undefined : roster.person(p.existingId);
      if (!cur) {
        const after = { name: p.name, openId: p.openId, phone: p.phone, email: p.email, role: p.role, scopeId, villageIds: vids };
        const id = roster.insertPerson({ name: p.name, openId: p.openId, phone: p.phone, email: p.email, role: p.role, scopeId });
        roster.setAssignments(id, vids);
        counts.people.created++;
        log('import.person', `person:${id}`, null, after);
        rowIds.push(id);
        continue;
      }
      rowIds.push(cur.id);
      // A cell left empty keeps what is known: an import never unbinds anyone, nor forgets a phone or email.
      const next = { name: p.name, openId: p.openId ?? cur.openId, phone: p.phone ?? cur.phone, email: p.email ?? cur.email, role: p.role, scopeId };
      const curVids = roster.assignedVillageIds(cur.id);
      const before = { name: cur.name, openId: cur.openId, phone: cur.phone, email: cur.email, role: cur.role, scopeId: cur.scopeId, villageIds: curVids };
      const after = { ...next, villageIds: vids };
      // Someone a past import dropped is back in the roster: updatePerson restores them.
      if (cur.removedAt === null && JSON.stringify(before) === JSON.stringify(after)) {
        counts.people.unchanged++;
        continue;
      }
      roster.updatePerson({ id: cur.id, ...next });
      if (JSON.stringify(curVids) !== JSON.stringify(vids)) roster.setAssignments(cur.id, vids);
      counts.people.updated++;
      log('import.person', `person:${cur.id}`, cur.removedAt === null ? before : { ...before, removedAt: cur.removedAt }, after);
    }

    for (const p of changes?.removedPeople ?? []) {
      const cur = roster.person(p.id);
      if (!cur || cur.removedAt !== null) continue;
      const before = { name: cur.name, openId: cur.openId, role: cur.role, scopeId: cur.scopeId, villageIds: roster.assignedVillageIds(cur.id) };
      roster.removePerson(cur.id, at);
      const cancelled = cur.openId ? cancelPendingTo(repos.db, cur.openId, at, `收件人已被导入「${fileName}」移出花名册，未发送`) : 0;
      counts.roster!.removed++;
      counts.roster!.cancelledMessages += cancelled;
      log('import.remove_person', `person:${cur.id}`, before, { removed: true, cancelledMessages: cancelled });
    }

    for (const o of plan.overrides) {
      const vid = villageId(o.village);
      const cur = planRepo.override(vid, o.stageKey);
      if (cur === o.deadline) {
        counts.overrides.unchanged++;
        continue;
      }
      planRepo.setOverride(vid, o.stageKey, o.deadline);
      counts.overrides[cur ? 'updated' : 'created']++;
      log('import.deadline', `village:${vid}/stage:${o.stageKey}`, cur ? { deadline: cur } : null, { deadline: o.deadline });
    }

    for (const t of plan.talks) {
      const regionId = t.region.kind === 'village' ? villageId(t.region.village) : township(t.region.county, t.region.township);
      const ids = [...new Set(t.interviewers.map((r) => ('row' in r ? rowIds[r.row]! : r.person)))].sort((a, b) => a - b);
      const cur = talks.find(t.category, t.subject, regionId);
      const after = { category: t.category, subject: t.subject, regionId, due: t.due, interviewerIds: ids };
      if (!cur) {
        const id = talks.insert(t.category, t.subject, regionId, t.due);
        talks.setInterviewers(id, ids);
        counts.talks.created++;
        log('import.talk', `talk:${id}`, null, after);
        continue;
      }
      const curIds = talks.get(cur.id)!.interviewer_ids;
      const before = { category: cur.category, subject: cur.subject, regionId, due: cur.due_date, interviewerIds: curIds };
      if (JSON.stringify(before) === JSON.stringify(after)) {
        counts.talks.unchanged++;
        continue;
      }
      talks.setDue(cur.id, t.due);
      talks.setInterviewers(cur.id, ids);
      counts.talks.updated++;
      log('import.talk', `talk:${cur.id}`, before, after);
    }
    log('import', `file:${fileName}`, null, counts);
    record?.(counts);
    return counts;
  });
}
