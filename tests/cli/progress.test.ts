import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { openTestDb } from '../helpers/store.js';
import { createWorkflowRepos } from '../../src/store/workflow-repos.js';
import { sampleCampaign, seedCampaign } from '../helpers/roster.js';
import { runTs } from '../helpers/spawn.js';
import { tempDir } from '../helpers/test-runtime.js';

const ENTRY = 'src/cli/main.ts';

describe('npm run cli -- progress', () => {
  it('prints stage status per village; --json one line per village and stage in the SPEC format', async () => {
    const dir = tempDir();
    const db = openTestDb(join(dir, 'huanjie.db'));
    const repos = createWorkflowRepos(db);
    seedCampaign(repos, sampleCampaign());
    const v = repos.roster.villages().find((x) => x.name === '城西村' && x.township === '沁河镇')!;
    repos.plan.setStage({ village_id: v.id, stage_key: 'audit', status: '已完成', completed_on: '2026-10-10', note: null, updated_by: 'ou_cadre_t0_v0', updated_at: 1 });
    db.close();

    const r = await runTs(ENTRY, ['progress', '城西村', '--json'], { env: { DATA_DIR: dir } });
    expect(r.stderr).toContain('城西村'); // ambiguous: two townships have one
    expect(r.code).not.toBe(0);

    const j = await runTs(ENTRY, ['progress', '沁河镇城西村', '--json'], { env: { DATA_DIR: dir } });
    expect(j.code).toBe(0);
    const lines = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(17);
    expect(Object.keys(lines[0]!)).toEqual(['village', 'township', 'stage', 'order', 'status', 'deadline', 'completed_at', 'by']);
    expect(lines[0]).toEqual({ village: '城西村', township: '沁河镇', stage: '审计', order: 1, status: '已完成', deadline: '2026-10-14', completed_at: '2026-10-10', by: '刘伟' });
    expect(lines.find((l) => l.stage === '选民名单公布')).toMatchObject({ status: '未开始', deadline: '2026-11-08', completed_at: null, by: null });

    const town = await runTs(ENTRY, ['progress', '沁河镇', '--json'], { env: { DATA_DIR: dir } });
    expect(new Set(town.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { village: string }).village))).toEqual(new Set(['城西村', '城东村', '南关社区']));

    const all = await runTs(ENTRY, ['progress', '--json'], { env: { DATA_DIR: dir } });
    expect(all.stdout.trim().split('\n')).toHaveLength(6 * 17);

    const text = await runTs(ENTRY, ['progress', '沁河镇城西村'], { env: { DATA_DIR: dir } });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/沁源县 沁河镇 城西村（村，选举日 2026-11-28）/);
    expect(text.stdout).toMatch(/1\s+审计\s+已完成\s+截止 2026-10-14\s+完成 2026-10-10\s+刘伟/);
  }, 90_000);
});
