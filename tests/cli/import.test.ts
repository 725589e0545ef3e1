import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { openTestDb } from '../helpers/store.js';
import { campaignRows, sampleCampaign, writeCsvDir, writeXlsx } from '../helpers/roster.js';
import { runTs } from '../helpers/spawn.js';
import { tempDir } from '../helpers/test-runtime.js';

const ENTRY = 'src/cli/main.ts';

describe('npm run cli -- import', () => {
  it('import template writes a workbook, refuses to overwrite', async () => {
    const dir = tempDir();
    const file = join(dir, '模板.xlsx');
    const r = await runTs(ENTRY, ['import', 'template', file], { env: { DATA_DIR: dir } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('已生成导入模板');
    expect(existsSync(file)).toBe(true);
    const again = await runTs(ENTRY, ['import', 'template', file], { env: { DATA_DIR: dir } });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('已存在');
  }, 60_000);

  it('imports a valid workbook and a CSV folder; counts on stdout, exit 0', async () => {
    const dir = tempDir();
    const file = join(dir, 'roster.xlsx');
    const c = sampleCampaign();
    await writeXlsx(file, campaignRows(c));
    const r = await runTs(ENTRY, ['import', file], { env: { DATA_DIR: dir } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/人员：新增 \d+，更新 0，未变 0/);
    const csv = join(dir, 'csv');
    writeCsvDir(csv, campaignRows(c));
    const r2 = await runTs(ENTRY, ['import', csv], { env: { DATA_DIR: dir } });
    expect(r2.code).toBe(0);
    expect(r2.stdout).toMatch(/人员：新增 0，更新 0，未变 \d+/);
  }, 60_000);

  it('refuses a broken workbook: problems by sheet/row/column on stderr, exit ≠ 0, nothing written', async () => {
    const dir = tempDir();
    const file = join(dir, 'broken.xlsx');
    const rows = campaignRows(sampleCampaign());
    rows['人员']![2]!['飞书open_id'] = rows['人员']![1]!['飞书open_id']!;
    rows['村社区']![0]!['类型'] = '镇';
    await writeXlsx(file, rows);
    const r = await runTs(ENTRY, ['import', file], { env: { DATA_DIR: dir } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('导入未通过：2 处问题，未写入任何数据');
    expect(r.stderr).toContain('人员 第4行 「飞书open_id」：与第3行重复');
    expect(r.stderr).toContain('村社区 第2行 「类型」：「镇」不是有效类型');
    const db = openTestDb(join(dir, 'huanjie.db'));
    expect(db.prepare('SELECT COUNT(*) AS n FROM wf_regions').get()).toEqual({ n: 0 });
    db.close();
    const missing = await runTs(ENTRY, ['import', join(dir, 'nope.xlsx')], { env: { DATA_DIR: dir } });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('找不到文件');
  }, 60_000);
});
