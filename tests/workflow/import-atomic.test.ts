import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/store/db.js';
import { openTestDb } from '../helpers/store.js';
import { createWorkflowRepos } from '../../src/store/workflow-repos.js';
import { runImport } from '../../src/workflow/import/index.js';
import { campaignRows, sampleCampaign, toSheetData } from '../helpers/roster.js';
import { tempDir } from '../helpers/test-runtime.js';
import { addFailTrigger, dropFailTrigger } from '../helpers/fail-trigger.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The import's record (wf_imports, keyed by the chat message) used to be
 * written after the import's transaction. A crash between the two left the
 * roster applied but unrecorded: the restarted service ran the import again
 * and answered "新增 0，更新 0，未变 N" for an import that had changed
 * everything. Now the record commits with the data, or neither does.
 */
describe('import: data and record in one transaction', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = tempDir();
    db = openTestDb(join(dir, 'huanjie.db'));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const read = () => ({ sheets: toSheetData(campaignRows(sampleCampaign())), issues: [] });

  it('a failure to write the record leaves the roster untouched', () => {
    const repos = createWorkflowRepos(db);
    // The record cannot be written (as when the process dies at that moment).
    addFailTrigger(db, 'test_no_record', 'INSERT ON wf_imports', 'cannot write the record');
    expect(() => runImport(repos, read(), { actor: 'test', sourceId: 'om_1', fileName: 'a.xlsx', now: Date.now() })).toThrow(/cannot write the record/);
    expect(repos.roster.people()).toEqual([]);
    expect(repos.roster.villages()).toEqual([]);
    expect(db.prepare(`SELECT COUNT(*) AS n FROM audit_log WHERE action LIKE 'import%'`).get()).toEqual({ n: 0 });

    // Run again (the resumed event): applied once, answered with what it changed.
    dropFailTrigger(db, 'test_no_record', 'INSERT ON wf_imports');
    const o = runImport(repos, read(), { actor: 'test', sourceId: 'om_1', fileName: 'a.xlsx', now: Date.now() });
    expect(o.ok && o.counts.people.created).toBe(sampleCampaign().people.length);
    const again = runImport(repos, read(), { actor: 'test', sourceId: 'om_1', fileName: 'a.xlsx', now: Date.now() });
    expect(again).toEqual(o);
    expect(db.prepare(`SELECT COUNT(*) AS n FROM wf_imports`).get()).toEqual({ n: 1 });
  });
});
