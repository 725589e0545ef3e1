import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportProgressXlsx } from '../../../src/workflow/digest/export.js';
import { EXPORT_DAY, exportWorld, type ExportWorld } from './export-world.js';

/**
 * The export printed as a county office would print it: LibreOffice turns
 * the county leader's workbook into a PDF (every sheet, in order) and the
 * pages are counted per sheet. Before this layout the same county printed
 * 76 pages (columns cut across pages); now each sheet is one page wide and
 * the handout sheets take a handful of pages, the long 进度总表 (one row per
 * village and stage) the rest.
 * Needs /usr/bin/soffice and pdftotext (poppler-utils); skipped otherwise.
 */
const SOFFICE = '/usr/bin/soffice';
const PDFTOTEXT = '/usr/bin/pdftotext';
const ready = existsSync(SOFFICE) && existsSync(PDFTOTEXT);
/** Same budget as the suite's other LibreOffice runs (tests/workflow/template.test.ts); its first start is the slow part. */
const SPAWN_TIMEOUT_MS = 120_000;
if (!ready) console.warn(`[export-pdf.test] print check SKIPPED: ${SOFFICE} or ${PDFTOTEXT} not found (apt-get install libreoffice-calc-nogui poppler-utils)`);

const require = createRequire(import.meta.url);

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: SPAWN_TIMEOUT_MS, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, out, stderr) => (err ? reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`)) : resolve(out)));
  });
}

let w: ExportWorld;
beforeAll(() => {
  if (ready) w = exportWorld();
});
afterAll(() => w?.close());

describe.skipIf(!ready)('the county export as LibreOffice prints it', () => {
  it('prints each sheet one page wide, the handout sheets in a handful of pages', async () => {
    const xlsx = join(w.dir, '进度.xlsx');
    writeFileSync(xlsx, await exportProgressXlsx(w.ctx, w.principal(w.campaign.ids.countyLeader), EXPORT_DAY));
    // The project's own CJK font (a dependency), so that the PDF has text and not boxes on machines without one.
    const font = dirname(require.resolve('@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf'));
    const conf = join(w.dir, 'fonts.conf');
    writeFileSync(
      conf,
      `<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>${font}</dir><cachedir>${join(w.dir, 'fc-cache')}</cachedir><alias><family>宋体</family><prefer><family>Noto Sans SC</family></prefer></alias></fontconfig>`,
    );
    await run(SOFFICE, [`-env:UserInstallation=file://${join(w.dir, 'lo-profile')}`, '--headless', '--convert-to', 'pdf', '--outdir', w.dir, xlsx], { FONTCONFIG_FILE: conf });
    const pdf = join(w.dir, '进度.pdf');
    const pages = (readFileSync(pdf, 'latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;

    // Pages per sheet: a sheet's first page starts with its title (the title rows are not repeated).
    const text = await run(PDFTOTEXT, ['-layout', pdf, '-']);
    const perPage = text.split('\f').slice(0, pages);
    const sheets: { title: string; pages: number }[] = [];
    for (const p of perPage) {
      const title = /沁源县\S*(汇总|进度表|清单|排名|情况表|明细表)/.exec(p)?.[0];
      if (title) sheets.push({ title, pages: 1 });
      else sheets[sheets.length - 1]!.pages++;
    }
    const count = (suffix: string) => sheets.find((s) => s.title.endsWith(suffix))?.pages;
    expect(sheets.map((s) => s.title)).toEqual([
      '沁源县村(社区)“两委”换届工作进度汇总',
      '沁源县村(社区)“两委”换届工作进度表',
      '沁源县村(社区)“两委”换届逾期事项清单',
      '沁源县各乡镇村(社区)“两委”换届工作进度排名',
      '沁源县村(社区)“两委”换届谈心谈话情况表',
      '沁源县村(社区)“两委”换届问题清单',
      '沁源县新一届村(社区)“两委”班子结构情况表',
      '沁源县村(社区)“两委”换届工作进度明细表',
    ]);
    expect(count('进度汇总')).toBe(1);
    expect(count('工作进度表')).toBe(1); // 50 villages × 16 stages on one page
    expect(count('进度排名')).toBe(1);
    // One page wide: a sheet cut across pages would at least double these.
    expect(count('逾期事项清单')).toBeLessThanOrEqual(5); // 144 overdue items, ~34 a page
    const handout = sheets.slice(0, -1).reduce((n, s) => n + s.pages, 0);
    expect(handout).toBeLessThanOrEqual(14);
    // 800 detail rows, ~44 a page.
    expect(count('明细表')).toBeLessThanOrEqual(20);
    expect(pages).toBe(handout + count('明细表')!);
    // The title block and the footer as printed.
    expect(perPage[0]).toMatch(/截至 2026年11月20日 17:05/);
    expect(perPage[0]).toMatch(/制表单位：沁源县换届工作领导小组办公室/);
    expect(perPage[0]).toMatch(new RegExp(`第 1 页，共 ${pages} 页`));
    // The header row repeats on the detail's later pages.
    expect(perPage[pages - 1]).toMatch(/乡镇\s+村社区\s+类型\s+选举日/);
  }, 240_000);
});
