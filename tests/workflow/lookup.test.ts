import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/store/db.js';
import { openTestDb } from '../helpers/store.js';
import { createWorkflowRepos, type WorkflowRepos } from '../../src/store/workflow-repos.js';
import { matchVillage } from '../../src/workflow/lookup.js';
import { sampleCampaign, seedCampaign } from '../helpers/roster.js';

/**
 * Check-ins name a village; the parsed village list is kept between them and
 * re-read when any region changes (a trigger moves wf_regions_version), also
 * when another connection — a CLI import — makes the change.
 */
let dir: string;
let db: Db;
let repos: WorkflowRepos;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hj-lookup-'));
  db = openTestDb(join(dir, 'w.db'));
  repos = createWorkflowRepos(db);
  seedCampaign(repos, sampleCampaign());
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const found = (text: string) => {
  const r = matchVillage(repos.roster, text);
  return r.kind === 'found' ? `${r.value.township}${r.value.name}:${r.value.electionDay}` : r.kind;
};

describe('village lookup', () => {
  it('finds by name or township+name, ambiguous names stay ambiguous', () => {
    expect(found('沁河镇城西村')).toBe('沁河镇城西村:2026-11-28');
    expect(found(' 沁河镇 城西村 ')).toBe('沁河镇城西村:2026-11-28');
    expect(found('城西村')).toBe('ambiguous');
  });

  it('sees a change made through the repository, by raw SQL, and by another connection', () => {
    expect(found('沁河镇城西村')).toBe('沁河镇城西村:2026-11-28');
    const v = repos.roster.villages().find((x) => x.name === '城西村' && x.township === '沁河镇')!;
    repos.roster.updateVillage(v.id, v.type, '2026-12-01');
    expect(found('沁河镇城西村')).toBe('沁河镇城西村:2026-12-01');

    db.prepare(`UPDATE wf_regions SET name = '新城西村' WHERE id = ?`).run(v.id);
    expect(found('沁河镇新城西村')).toBe('沁河镇新城西村:2026-12-01');

    const other = openTestDb(join(dir, 'w.db'));
    try {
      other.prepare(`INSERT INTO wf_regions (kind, name, parent_id, village_type, election_day) SELECT 'village', '东沟村', parent_id, '村', '2026-11-29' FROM wf_regions WHERE id = ?`).run(v.id);
    } finally {
      other.close();
    }
    expect(found('东沟村')).toBe('沁河镇东沟村:2026-11-29');
  });
});
