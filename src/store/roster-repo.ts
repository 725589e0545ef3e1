import type { Db } from './db.js';
import type { Person, Region, RegionKind, Role, Village, VillageType } from '../workflow/types.js';

/** Regions (county → township → village), people and their assignments. */

interface RegionRow {
  id: number;
  kind: RegionKind;
  name: string;
  parent_id: number | null;
  village_type: VillageType | null;
  election_day: string | null;
}

interface VillageRow {
  id: number;
  name: string;
  village_type: VillageType;
  election_day: string | null;
  township_id: number;
  township: string;
  county_id: number;
  county: string;
}

interface PersonRow {
  id: number;
  name: string;
  open_id: string | null;
  role: Role;
  scope_id: number | null;
  phone: string | null;
  email: string | null;
  lookup_status: 'not_found' | null;
  lookup_at: number | null;
  removed_at: number | null;
}

/** A person not yet bound to a Lark account, with the last resolve attempt. */
export interface UnboundPerson extends Person {
  lookupStatus: 'not_found' | null;
  lookupAt: number | null;
}

const VILLAGE_SELECT = `
  SELECT v.id, v.name, v.village_type, v.election_day, t.id AS township_id, t.name AS township, c.id AS county_id, c.name AS county
  FROM wf_regions v JOIN wf_regions t ON t.id = v.parent_id JOIN wf_regions c ON c.id = t.parent_id
  WHERE v.kind = 'village'`;

const toVillage = (r: VillageRow): Village => ({
  id: r.id,
  name: r.name,
  type: r.village_type,
  electionDay: r.election_day,
  townshipId: r.township_id,
  township: r.township,
  countyId: r.county_id,
  county: r.county,
});
const PERSON_COLS = `id, name, open_id, role, scope_id, phone, email, lookup_status, lookup_at, removed_at`;
const toPerson = (r: PersonRow): Person => ({ id: r.id, name: r.name, openId: r.open_id, phone: r.phone, email: r.email, role: r.role, scopeId: r.scope_id });
/** The same, with when a re-import dropped them (null: in the roster). */
const toRosterPerson = (r: PersonRow): Person & { removedAt: number | null } => ({ ...toPerson(r), removedAt: r.removed_at });
/** In the roster: not dropped by a re-import (issue 17). Every lookup that grants anything uses it. */
const LISTED = `removed_at IS NULL`;
const toRegion = (r: RegionRow): Region => ({ id: r.id, kind: r.kind, name: r.name, parentId: r.parent_id });

export function createRosterRepo(db: Db) {
  const s = {
    regionById: db.prepare(`SELECT * FROM wf_regions WHERE id = ?`),
    regionByName: db.prepare(`SELECT * FROM wf_regions WHERE kind = ? AND IFNULL(parent_id, 0) = ? AND name = ?`),
    insertRegion: db.prepare(
      `INSERT INTO wf_regions (kind, name, parent_id, village_type, election_day) VALUES (@kind, @name, @parent_id, @village_type, @election_day)`,
    ),
    updateVillage: db.prepare(`UPDATE wf_regions SET village_type = @village_type, election_day = @election_day WHERE id = @id`),
    townships: db.prepare(`SELECT * FROM wf_regions WHERE kind = 'township' ORDER BY parent_id, name`),
    counties: db.prepare(`SELECT * FROM wf_regions WHERE kind = 'county' ORDER BY name`),
    villages: db.prepare(`${VILLAGE_SELECT} ORDER BY c.name, t.name, v.name`),
    regionsVersion: db.prepare(`SELECT v FROM wf_regions_version`).pluck(),
    villageById: db.prepare(`${VILLAGE_SELECT} AND v.id = ?`),
    personByOpenId: db.prepare(`SELECT ${PERSON_COLS} FROM wf_people WHERE open_id = ? AND ${LISTED}`),
    removedByOpenId: db.prepare(`SELECT 1 FROM wf_people WHERE open_id = ? AND removed_at IS NOT NULL`).pluck(),
    personByPhone: db.prepare(`SELECT ${PERSON_COLS} FROM wf_people WHERE phone = ? AND ${LISTED}`),
    personByEmail: db.prepare(`SELECT ${PERSON_COLS} FROM wf_people WHERE email = ? AND ${LISTED}`),
    personById: db.prepare(`SELECT ${PERSON_COLS} FROM wf_people WHERE id = ?`),
    people: db.prepare(`SELECT ${PERSON_COLS} FROM wf_people WHERE ${LISTED} ORDER BY name, id`),
    everyone: db.prepare(`SELECT ${PERSON_COLS} FROM wf_people`),
    unbound: db.prepare(`SELECT ${PERSON_COLS} FROM wf_people WHERE open_id IS NULL AND ${LISTED} ORDER BY id`),
    unboundCount: db.prepare(`SELECT COUNT(*) AS n FROM wf_people WHERE open_id IS NULL AND ${LISTED}`).pluck(),
    peopleRaw: db.prepare(`SELECT id, name, open_id, role, scope_id, phone, email FROM wf_people WHERE ${LISTED}`).raw(true),
    remove: db.prepare(`UPDATE wf_people SET removed_at = @at WHERE id = @id AND removed_at IS NULL`),
    renameVillage: db.prepare(`UPDATE wf_regions SET name = @name WHERE id = @id AND kind = 'village'`),
    insertPerson: db.prepare(
      `INSERT INTO wf_people (name, open_id, role, scope_id, phone, email) VALUES (@name, @open_id, @role, @scope_id, @phone, @email)`,
    ),
    // An import never clears a bound open_id: the roster may not carry it (people by phone), Lark gave it.
    updatePerson: db.prepare(
      `UPDATE wf_people SET name = @name, role = @role, scope_id = @scope_id, phone = @phone, email = @email,
              open_id = COALESCE(@open_id, open_id), removed_at = NULL WHERE id = @id`,
    ),
    bind: db.prepare(`UPDATE wf_people SET open_id = @open_id, lookup_status = NULL, lookup_at = @at WHERE id = @id AND open_id IS NULL`),
    // A changed phone or email is a new question for Lark: tried on the next tick, not a day later.
    resetLookup: db.prepare(`UPDATE wf_people SET lookup_status = NULL, lookup_at = NULL WHERE id = ? AND open_id IS NULL`),
    lookupFailed: db.prepare(`UPDATE wf_people SET lookup_status = 'not_found', lookup_at = @at WHERE id = @id AND open_id IS NULL`),
    assignedVillageIds: db.prepare(`SELECT village_id FROM wf_assignments WHERE person_id = ? ORDER BY village_id`),
    assignees: db.prepare(`SELECT p.* FROM wf_assignments a JOIN wf_people p ON p.id = a.person_id WHERE a.village_id = ? ORDER BY p.name`),
    clearAssignments: db.prepare(`DELETE FROM wf_assignments WHERE person_id = ?`),
    assign: db.prepare(`INSERT OR IGNORE INTO wf_assignments (person_id, village_id) VALUES (?, ?)`),
    // Each person's counties: through assigned villages, and through talks still to hold
    // (a talk's place is a village, a township or a county).
    peopleInSeveralCounties: db
      .prepare(
        `WITH person_county AS (
           SELECT a.person_id, t.parent_id AS county_id
             FROM wf_assignments a JOIN wf_regions v ON v.id = a.village_id JOIN wf_regions t ON t.id = v.parent_id
           UNION ALL
           SELECT ti.person_id,
                  CASE r.kind WHEN 'village' THEN up.parent_id WHEN 'township' THEN r.parent_id ELSE r.id END
             FROM wf_talks k JOIN wf_talk_interviewers ti ON ti.talk_id = k.id
             JOIN wf_regions r ON r.id = k.region_id LEFT JOIN wf_regions up ON up.id = r.parent_id
            WHERE k.status = '待谈')
         SELECT person_id FROM person_county GROUP BY person_id HAVING MIN(county_id) <> MAX(county_id)`,
      )
      .pluck(),
  };

  return {
    region(id: number): Region | undefined {
      const r = s.regionById.get(id) as RegionRow | undefined;
      return r && toRegion(r);
    },
    findRegion(kind: RegionKind, parentId: number | null, name: string): Region | undefined {
      const r = s.regionByName.get(kind, parentId ?? 0, name) as RegionRow | undefined;
      return r && toRegion(r);
    },
    /** Finds or creates a county/township; returns its id and whether it was created. */
    ensureRegion(kind: 'county' | 'township', parentId: number | null, name: string): { id: number; created: boolean } {
      const r = s.regionByName.get(kind, parentId ?? 0, name) as RegionRow | undefined;
      if (r) return { id: r.id, created: false };
      const id = Number(s.insertRegion.run({ kind, name, parent_id: parentId, village_type: null, election_day: null }).lastInsertRowid);
      return { id, created: true };
    },
    insertVillage(townshipId: number, name: string, type: VillageType, electionDay: string | null): number {
      return Number(
        s.insertRegion.run({ kind: 'village', name, parent_id: townshipId, village_type: type, election_day: electionDay }).lastInsertRowid,
      );
    },
    updateVillage(id: number, type: VillageType, electionDay: string | null): void {
      s.updateVillage.run({ id, village_type: type, election_day: electionDay });
    },
    /** A confirmed rename: the same region row, so its stages, talks, risks and audit stay with it. */
    renameVillage(id: number, name: string): void {
      s.renameVillage.run({ id, name });
    },
    counties(): Region[] {
      return (s.counties.all() as RegionRow[]).map(toRegion);
    },
    townships(): Region[] {
      return (s.townships.all() as RegionRow[]).map(toRegion);
    },
    /** Moves whenever any region changes (a trigger): lets readers keep a parsed village list. */
    regionsVersion(): number {
      return s.regionsVersion.get() as number;
    },
    villages(): Village[] {
      return (s.villages.all() as VillageRow[]).map(toVillage);
    },
    village(id: number): Village | undefined {
      const r = s.villageById.get(id) as VillageRow | undefined;
      return r && toVillage(r);
    },
    personByOpenId(openId: string): Person | undefined {
      const r = s.personByOpenId.get(openId) as PersonRow | undefined;
      return r && toPerson(r);
    },
    personByPhone(phone: string): Person | undefined {
      const r = s.personByPhone.get(phone) as PersonRow | undefined;
      return r && toPerson(r);
    },
    personByEmail(email: string): Person | undefined {
      const r = s.personByEmail.get(email) as PersonRow | undefined;
      return r && toPerson(r);
    },
    /** People known only by phone or email, oldest first, with the last resolve attempt. */
    unbound(): UnboundPerson[] {
      return (s.unbound.all() as PersonRow[]).map((r) => ({ ...toPerson(r), lookupStatus: r.lookup_status, lookupAt: r.lookup_at }));
    },
    unboundCount(): number {
      return Number(s.unboundCount.get());
    },
    /** Gives an unbound person their open_id; false when they were bound meanwhile. */
    bind(personId: number, openId: string, at: number): boolean {
      return s.bind.run({ id: personId, open_id: openId, at }).changes > 0;
    },
    /** Records that Lark did not know this person's phone/email (or the app may not see them). */
    markLookupFailed(personId: number, at: number): void {
      s.lookupFailed.run({ id: personId, at });
    },
    /** By id, whether in the roster or dropped (removedAt). */
    person(id: number): (Person & { removedAt: number | null }) | undefined {
      const r = s.personById.get(id) as PersonRow | undefined;
      return r && toRosterPerson(r);
    },
    /** Whether this open_id belonged to someone a re-import dropped (and no one listed holds it). */
    wasRemoved(openId: string): boolean {
      return s.removedByOpenId.get(openId) !== undefined;
    },
    /** Everyone ever imported, dropped people included (an import matches rows against them, to restore them). */
    everyone(): (Person & { removedAt: number | null })[] {
      return (s.everyone.all() as PersonRow[]).map(toRosterPerson);
    },
    /** Drops a person from the roster: marked, and their villages taken from them. */
    removePerson(id: number, at: number): void {
      s.remove.run({ id, at });
      s.clearAssignments.run(id);
    },
    people(): Person[] {
      return (s.people.all() as PersonRow[]).map(toPerson);
    },
    /** Everyone, in no particular order, read as raw rows (the reminder scan's roster: no sort, no row objects). */
    peopleUnordered(): Person[] {
      return (s.peopleRaw.all() as [number, string, string | null, Person['role'], number | null, string | null, string | null][]).map(
        ([id, name, openId, role, scopeId, phone, email]) => ({ id, name, openId, role, scopeId, phone, email }),
      );
    },
    insertPerson(p: Omit<Person, 'id'>): number {
      return Number(s.insertPerson.run({ name: p.name, open_id: p.openId, role: p.role, scope_id: p.scopeId, phone: p.phone, email: p.email }).lastInsertRowid);
    },
    /** Name, role, scope, phone, email; open_id only when given (an import never unbinds anyone). */
    updatePerson(p: Person): void {
      const cur = s.personById.get(p.id) as PersonRow | undefined;
      s.updatePerson.run({ id: p.id, name: p.name, role: p.role, scope_id: p.scopeId, phone: p.phone, email: p.email, open_id: p.openId });
      if (cur && (cur.phone !== p.phone || cur.email !== p.email)) s.resetLookup.run(p.id);
    },
    assignedVillageIds(personId: number): number[] {
      return (s.assignedVillageIds.all(personId) as { village_id: number }[]).map((r) => r.village_id);
    },
    assignees(villageId: number): Person[] {
      return (s.assignees.all(villageId) as PersonRow[]).map(toPerson);
    },
    /** Replaces a person's villages. */
    setAssignments(personId: number, villageIds: readonly number[]): void {
      s.clearAssignments.run(personId);
      for (const v of villageIds) s.assign.run(personId, v);
    },
    /** Ids of the people with villages or open talks in more than one county. */
    peopleInSeveralCounties(): Set<number> {
      return new Set(s.peopleInSeveralCounties.all() as number[]);
    },
  };
}

export type RosterRepo = ReturnType<typeof createRosterRepo>;
