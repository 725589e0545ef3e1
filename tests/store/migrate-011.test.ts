import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb, type SqliteDb } from '../../src/store/db.js';
import { runMigrations } from '../../src/store/migrate.js';
import { onPostgres } from '../helpers/store.js';
import { tempDir } from '../helpers/test-runtime.js';

const MIGRATIONS = fileURLToPath(new URL('../../src/store/migrations/', import.meta.url));

/** Issue 17: state rows written before migration 011 get as_of = updated_at (true as of when written). */
describe.skipIf(onPostgres)('migration 011 (as_of) on a database populated before it', () => {
  it('existing stage progress, talks and structures are as of their updated_at; new rows as of the message', () => {
    const dir = tempDir('hj-mig11-');
    const upTo10 = join(dir, 'migrations-1-10');
    mkdirSync(upTo10);
    for (const f of readdirSync(MIGRATIONS)) if (/^0(0[1-9]|10)-/.test(f)) copyFileSync(join(MIGRATIONS, f), join(upTo10, f));
    const db: SqliteDb = openDb(join(dir, 'huanjie.db'), { migrate: false });
    expect(runMigrations(db, upTo10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const region = db.prepare(`INSERT INTO wf_regions (kind, name, parent_id, village_type, election_day) VALUES (?, ?, ?, ?, ?)`);
    const county = Number(region.run('county', '沁源县', null, null, null).lastInsertRowid);
    const town = Number(region.run('township', '沁河镇', county, null, null).lastInsertRowid);
    const v = Number(region.run('village', '城西村', town, '村', '2026-11-28').lastInsertRowid);
    db.prepare(`INSERT INTO wf_stage_progress (village_id, stage_key, status, completed_on, note, updated_by, updated_at) VALUES (?, 'audit', '已完成', '2026-10-01', NULL, 'ou_x', 1700)`).run(v);
    db.prepare(`INSERT INTO wf_talks (category, subject, region_id, due_date, status, updated_by, updated_at) VALUES ('选前谈话', '李强', ?, NULL, '已谈', 'ou_x', 1800)`).run(v);
    db.prepare(`INSERT INTO wf_talks (category, subject, region_id, due_date) VALUES ('任前谈话', '李强', ?, NULL)`).run(v);
    db.prepare(`INSERT INTO wf_structures (village_id, women, updated_by, updated_at) VALUES (?, 1, 'ou_x', 1900)`).run(v);

    expect(runMigrations(db)).toContain(11);
    expect(db.prepare(`SELECT as_of FROM wf_stage_progress`).all()).toEqual([{ as_of: 1700 }]);
    expect(db.prepare(`SELECT as_of FROM wf_talks ORDER BY id`).all()).toEqual([{ as_of: 1800 }, { as_of: null }]);
    expect(db.prepare(`SELECT as_of FROM wf_structures`).all()).toEqual([{ as_of: 1900 }]);
    db.close();
  });
});
