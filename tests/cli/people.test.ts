import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createWorkflowRepos } from '../../src/store/workflow-repos.js';
import { openTestDb } from '../helpers/store.js';
import { sampleCampaign, seedCampaign } from '../helpers/roster.js';
import { runTs } from '../helpers/spawn.js';
import { tempDir } from '../helpers/test-runtime.js';

const ENTRY = 'src/cli/main.ts';

describe('npm run cli -- people (issue 14)', () => {
  it('lists the roster with bindings; --unbound --json gives the unbound whole, the table masks them', async () => {
    const dir = tempDir();
    const db = openTestDb(join(dir, 'huanjie.db'));
    const repos = createWorkflowRepos(db);
    seedCampaign(repos, sampleCampaign({ townships: 1, villagesPerTownship: 2, talks: false }));
    const v = repos.roster.villages().find((x) => x.name === '城西村')!;
    const a = repos.roster.insertPerson({ name: '赵敏', openId: null, phone: '13912345678', email: null, role: '干部', scopeId: v.townshipId });
    repos.roster.setAssignments(a, [v.id]);
    const b = repos.roster.insertPerson({ name: '钱多', openId: null, phone: null, email: 'qian.duo@example.cn', role: '工作组', scopeId: v.townshipId });
    repos.roster.markLookupFailed(b, Date.parse('2026-11-04T01:00:00Z'));
    const total = repos.roster.people().length;
    db.close();

    const j = await runTs(ENTRY, ['people', '--unbound', '--json'], { env: { DATA_DIR: dir } });
    expect(j.code).toBe(0);
    const lines = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { name: '赵敏', role: '干部', township: '沁河镇', villages: ['城西村'], phone: '13912345678', email: null, open_id: null, bound: false },
      { name: '钱多', role: '工作组', township: '沁河镇', villages: [], phone: null, email: 'qian.duo@example.cn', open_id: null, bound: false },
    ]);

    const all = await runTs(ENTRY, ['people', '--json'], { env: { DATA_DIR: dir } });
    const everyone = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as { bound: boolean; open_id: string | null });
    expect(everyone).toHaveLength(total);
    expect(everyone.filter((p) => p.bound).every((p) => p.open_id?.startsWith('ou_'))).toBe(true);

    const text = await runTs(ENTRY, ['people', '--unbound'], { env: { DATA_DIR: dir } });
    expect(text.code).toBe(0);
    const out = text.stdout;
    expect(out).toMatch(/姓名\s+角色\s+乡镇\s+负责村\s+手机\s+邮箱\s+状态/);
    expect(out).toContain('139****5678');
    expect(out).not.toContain('13912345678');
    expect(out).toContain('q***@example.cn');
    expect(out).toMatch(/赵敏.*未绑定（待匹配）/);
    expect(out).toMatch(/钱多.*未绑定（未找到/);
    expect(out).toContain('共 2 人');
  }, 60_000);
});
