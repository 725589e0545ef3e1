import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb, type SqliteDb } from '../../src/store/db.js';
import { listMigrations, runMigrations } from '../../src/store/migrate.js';
import { onPostgres } from '../helpers/store.js';
import { tempDir } from '../helpers/test-runtime.js';

const MIGRATIONS = fileURLToPath(new URL('../../src/store/migrations/', import.meta.url));

/** A SQLite database at schema version 7 (migrations 001–007 only), as a deployment had it before issue 14. */
function databaseAtVersion7(): { db: SqliteDb; dir: string } {
  const dir = tempDir('hj-mig8-');
  const only7 = join(dir, 'migrations-1-7');
  mkdirSync(only7);
  for (const f of readdirSync(MIGRATIONS)) if (/^00[1-7]-/.test(f)) copyFileSync(join(MIGRATIONS, f), join(only7, f));
  const db = openDb(join(dir, 'huanjie.db'), { migrate: false });
  expect(runMigrations(db, only7)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  return { db, dir };
}

/** People with assignments and talk interviewers: what the rebuild of wf_people must not lose. */
function populate(db: SqliteDb): void {
  const region = db.prepare(`INSERT INTO wf_regions (kind, name, parent_id, village_type, election_day) VALUES (?, ?, ?, ?, ?)`);
  const county = Number(region.run('county', '沁源县', null, null, null).lastInsertRowid);
  const town = Number(region.run('township', '沁河镇', county, null, null).lastInsertRowid);
  const v1 = Number(region.run('village', '城西村', town, '村', '2026-11-28').lastInsertRowid);
  const v2 = Number(region.run('village', '南关社区', town, '社区', '2026-11-28').lastInsertRowid);
  const person = db.prepare(`INSERT INTO wf_people (id, name, open_id, role, scope_id) VALUES (?, ?, ?, ?, ?)`);
  person.run(1, '换届办管理员', 'ou_admin', '管理员', county);
  person.run(2, '张伟', 'ou_cadre_1', '干部', town);
  person.run(3, '王芳', 'ou_team_1', '工作组', town);
  const assign = db.prepare(`INSERT INTO wf_assignments (person_id, village_id) VALUES (?, ?)`);
  assign.run(2, v1);
  assign.run(3, v1);
  assign.run(3, v2);
  const talk = Number(db.prepare(`INSERT INTO wf_talks (category, subject, region_id, due_date) VALUES ('选前谈话', '李强', ?, '2026-11-20')`).run(v1).lastInsertRowid);
  db.prepare(`INSERT INTO wf_talk_interviewers (talk_id, person_id) VALUES (?, ?), (?, ?)`).run(talk, 2, talk, 3);
}

const rows = (db: SqliteDb, sql: string) => db.prepare(sql).all();

describe.skipIf(onPostgres)('migration 008 (people by phone or email) on a database populated before it', () => {
  it('keeps every assignment and talk interviewer: the runner turns foreign keys off around the rebuild', () => {
    const { db } = databaseAtVersion7();
    populate(db);
    const before = {
      people: rows(db, `SELECT id, name, open_id, role, scope_id FROM wf_people ORDER BY id`),
      assignments: rows(db, `SELECT * FROM wf_assignments ORDER BY person_id, village_id`),
      interviewers: rows(db, `SELECT * FROM wf_talk_interviewers ORDER BY talk_id, person_id`),
    };
    expect(before.assignments).toHaveLength(3);
    expect(before.interviewers).toHaveLength(2);

    const applied = runMigrations(db);
    expect(applied[0]).toBe(8);
    expect(applied).toEqual(listMigrations().map((m) => m.version).filter((v) => v >= 8));

    expect(rows(db, `SELECT id, name, open_id, role, scope_id FROM wf_people ORDER BY id`)).toEqual(before.people);
    expect(rows(db, `SELECT * FROM wf_assignments ORDER BY person_id, village_id`)).toEqual(before.assignments);
    expect(rows(db, `SELECT * FROM wf_talk_interviewers ORDER BY talk_id, person_id`)).toEqual(before.interviewers);
    expect(rows(db, `SELECT DISTINCT phone, email, lookup_status, lookup_at FROM wf_people`)).toEqual([{ phone: null, email: null, lookup_status: null, lookup_at: null }]);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(rows(db, `PRAGMA foreign_key_check`)).toEqual([]);
    // The rebuilt table still enforces what it should: cascades from people, one of open_id/phone/email.
    db.prepare(`INSERT INTO wf_people (name, role, phone) VALUES ('赵敏', '干部', '13912345678')`).run();
    expect(() => db.prepare(`INSERT INTO wf_people (name, role) VALUES ('无名', '干部')`).run()).toThrow(/CHECK/);
    db.prepare(`DELETE FROM wf_people WHERE id = 3`).run();
    expect(rows(db, `SELECT person_id FROM wf_assignments ORDER BY person_id`)).toEqual([{ person_id: 2 }]);
    db.close();
  });

  it('the same SQL with foreign keys on would have emptied them (why the runner turns them off)', () => {
    const { db } = databaseAtVersion7();
    populate(db);
    const m8 = listMigrations().find((m) => m.version === 8)!;
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.exec(m8.sql);
    expect(rows(db, `SELECT * FROM wf_assignments`)).toEqual([]);
    expect(rows(db, `SELECT * FROM wf_talk_interviewers`)).toEqual([]);
    db.close();
  });
});
