import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/store/db.js';
import { openTestDb } from '../helpers/store.js';
import { createWorkflowRepos } from '../../src/store/workflow-repos.js';
import { formatIssue, readImportBytes, runImport } from '../../src/workflow/import/index.js';
import { checkXlsxBytes, MAX_UNZIPPED_BYTES } from '../../src/workflow/import/read.js';
import { campaignRows, sampleCampaign, seedCampaign, writeXlsx } from '../helpers/roster.js';
import { tempDir } from '../helpers/test-runtime.js';
import { cfbFile, encryptXlsx, workbookWithFormulas, zipBombXlsx, zipNotXlsx } from '../helpers/xlsx-abuse.js';

/**
 * Regression tests for defects the fault suite found in the import reader
 * (issue 8, tests/faults/excel-abuse.fault.ts): each of these files used to be
 * parsed by exceljs as it came.
 */
describe('hostile workbooks', () => {
  const campaign = sampleCampaign();
  let valid: Buffer;
  let db: Db;
  beforeAll(async () => {
    const dir = tempDir();
    await writeXlsx(join(dir, 'r.xlsx'), campaignRows(campaign));
    valid = readFileSync(join(dir, 'r.xlsx'));
    db = openTestDb(join(dir, 'huanjie.db'));
    seedCampaign(db, campaign);
  });
  afterAll(() => db.close());

  it('a password-protected workbook is refused as such (was: "may be damaged")', async () => {
    await expect(readImportBytes('花名册.xlsx', encryptXlsx(valid, 'pw', 1000))).rejects.toThrow(/设置了打开密码（已加密）/);
    // Any other Compound File (an old .xls renamed) is told apart from an encrypted one.
    await expect(readImportBytes('花名册.xlsx', cfbFile([{ name: 'Workbook', data: Buffer.alloc(5000, 1) }]))).rejects.toThrow(/旧版 Excel（\.xls）/);
  });

  it('a cut-off workbook and a zip that is not a workbook say so', async () => {
    await expect(readImportBytes('花名册.xlsx', valid.subarray(0, valid.length - 10))).rejects.toThrow(/文件不完整或已损坏/);
    await expect(readImportBytes('花名册.xlsx', await zipNotXlsx())).rejects.toThrow(/压缩包，但不是 Excel 工作簿/);
  });

  it('a zip bomb is refused before parsing, whether or not it declares its size (was: gigabytes of memory, seconds of CPU)', async () => {
    for (const opts of [{}, { declaredBytes: 30_000 }]) {
      const bomb = await zipBombXlsx(valid, 256 * 1024 * 1024, opts);
      expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
      const t0 = Date.now();
      expect(() => checkXlsxBytes(bomb)).toThrow(/解压后过大.*压缩炸弹/);
      await expect(readImportBytes('花名册.xlsx', bomb)).rejects.toThrow(/解压后过大/);
      expect(Date.now() - t0).toBeLessThan(5000);
    }
    // A legitimately large workbook is far below the cap.
    expect(MAX_UNZIPPED_BYTES).toBeGreaterThan(30 * 1024 * 1024);
    expect(() => checkXlsxBytes(valid)).not.toThrow();
  }, 60_000);

  it('formula cells are refused by sheet, row and column, not trusted by their cached value (was: the cached value was imported)', async () => {
    const rows = campaignRows(campaign);
    const cols = { 人员: ['姓名', '飞书open_id', '角色', '县', '乡镇', '负责村社区'], 村社区: ['县', '乡镇', '村社区', '类型', '选举日'] };
    const before = JSON.stringify(db.prepare('SELECT * FROM wf_people ORDER BY id').all());
    // A cadre's open_id as =B2 whose cached value names the county leader: imported as is, it would hand the leader's id to another row.
    const bytes = await workbookWithFormulas({ 人员: rows['人员']!, 村社区: rows['村社区']! }, cols, {
      '人员!B4': { formula: 'B2', result: campaign.ids.countyLeader },
      '村社区!E3': { formula: '1+1', result: 3 },
      '人员!A6': { formula: '"张"&"三"' },
    });
    const read = await readImportBytes('花名册.xlsx', bytes);
    const lines = read.issues.map(formatIssue);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^人员 第4行 「飞书open_id」：单元格是公式（=B2），不能导入/),
        expect.stringMatching(/^村社区 第3行 「选举日」：单元格是公式（=1\+1）/),
        expect.stringMatching(/^人员 第6行 「姓名」：单元格是公式/),
      ]),
    );
    const o = runImport(createWorkflowRepos(db), read, { actor: 'ou_admin_0001', sourceId: 'formula-1', fileName: '花名册.xlsx', now: Date.now() });
    expect(o.ok).toBe(false);
    expect(JSON.stringify(db.prepare('SELECT * FROM wf_people ORDER BY id').all())).toBe(before);
  });
});
