import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportProgressXlsx } from '../../../src/workflow/digest/export.js';
import type { Principal } from '../../../src/workflow/permissions.js';
import { EXPORT_DAY, exportWorld, type ExportWorld } from './export-world.js';

/**
 * The printable workbook (issue 14 part 6), read back with exceljs: the
 * title block in Shanghai time, the print set-up of every sheet, borders,
 * the 进度一览 matrix, the overdue list's order and the ranking's scope.
 */
let w: ExportWorld;
const books = new Map<string, ExcelJS.Workbook>();
const ALL: Principal = { openId: 'cli', name: '全部', isAdmin: true, personId: null, role: null, scopeId: null, scopeKind: null, villageIds: new Set() };

async function book(who: string): Promise<ExcelJS.Workbook> {
  let wb = books.get(who);
  if (wb) return wb;
  const p = who === 'all' ? ALL : w.principal(who);
  wb = new ExcelJS.Workbook();
  await wb.xlsx.load((await exportProgressXlsx(w.ctx, p, EXPORT_DAY)) as unknown as ArrayBuffer);
  books.set(who, wb);
  return wb;
}

const SHEETS = ['汇总', '进度一览', '逾期清单', '乡镇排名', '谈话', '问题清单', '班子结构', '进度总表'];

/** The row whose first cells are the given headers. */
function headerRow(ws: ExcelJS.Worksheet, first: string): number {
  for (let r = 1; r <= 8; r++) if (ws.getCell(r, 1).value === first) return r;
  throw new Error(`no header ${first} in ${ws.name}`);
}

/** The colour of a solid fill, undefined when the cell has none. */
function solid(cell: ExcelJS.Cell): string | undefined {
  const f = cell.fill as ExcelJS.FillPattern | undefined;
  return f?.pattern === 'solid' ? f.fgColor?.argb : undefined;
}

function texts(ws: ExcelJS.Worksheet, r: number): unknown[] {
  return (ws.getRow(r).values as unknown[]).slice(1);
}

beforeAll(() => {
  w = exportWorld({ secondCounty: true });
});
afterAll(() => w.close());

describe('every sheet prints', () => {
  it('has the title, 制表单位 and 截至 in Shanghai time from the injected clock', async () => {
    const wb = await book(w.campaign.ids.countyLeader);
    expect(wb.worksheets.map((s) => s.name)).toEqual(SHEETS);
    const m = wb.getWorksheet('进度一览')!;
    expect(m.getCell('A1').value).toBe('沁源县村(社区)“两委”换届工作进度表');
    expect(m.getCell('A2').value).toBe('制表单位：沁源县换届工作领导小组办公室');
    // 09:05 UTC is 17:05 in Shanghai.
    const row2 = texts(m, 2).filter(Boolean);
    expect(row2).toContain('截至 2026年11月20日 17:05');
    expect(JSON.stringify(row2)).not.toMatch(/09:05|T\d\d:|Z"/);
    for (const ws of wb.worksheets) {
      expect(String(ws.getCell('A1').value)).toMatch(/^沁源县.*(表|清单|汇总|排名)$/);
      expect(ws.getCell('A1').font?.bold).toBe(true);
      expect(ws.getCell('A2').value).toBe('制表单位：沁源县换届工作领导小组办公室');
    }
  });

  it('a township leader’s sheets name the township and its 党委', async () => {
    const wb = await book(w.campaign.ids.townshipLeaders[1]!);
    expect(wb.getWorksheet('进度一览')!.getCell('A1').value).toBe('沁源县郭道镇村(社区)“两委”换届工作进度表');
    expect(wb.getWorksheet('逾期清单')!.getCell('A2').value).toBe('制表单位：郭道镇党委');
    // Their villages only, in every sheet but the ranking.
    for (const name of ['进度一览', '逾期清单', '谈话', '班子结构']) {
      const ws = wb.getWorksheet(name)!;
      const h = headerRow(ws, '序号');
      const townships = new Set<unknown>();
      for (let r = h + 1; typeof ws.getCell(r, 1).value === 'number'; r++) townships.add(ws.getCell(r, 2).value);
      expect([...townships], name).toEqual(['郭道镇']);
    }
  });

  it('A4 landscape, one page wide, header frozen and repeated, margins, page numbers', async () => {
    const wb = await book(w.campaign.ids.countyLeader);
    for (const ws of wb.worksheets) {
      const h = ws.name === '汇总' ? headerRow(ws, '项目') : ws.name === '乡镇排名' ? headerRow(ws, '排名') : ws.name === '进度总表' ? headerRow(ws, '县') : headerRow(ws, ws.name === '问题清单' ? '编号' : '序号');
      expect(h, ws.name).toBeGreaterThan(2); // below the title rows
      expect(ws.pageSetup, ws.name).toMatchObject({ paperSize: 9, orientation: 'landscape', fitToPage: true, fitToWidth: 1, fitToHeight: ws.name === '汇总' ? 1 : 0, printTitlesRow: `${h}:${h}` });
      expect(ws.pageSetup.margins, ws.name).toMatchObject({ left: 0.4, right: 0.4, top: 0.5, bottom: 0.6 });
      expect(ws.headerFooter.oddFooter, ws.name).toBe('&C第 &P 页，共 &N 页');
      expect(ws.views[0], ws.name).toMatchObject({ state: 'frozen', ySplit: h });
      // Bordered header and first data cell; column widths set.
      for (const cell of [ws.getCell(h, 1), ws.getCell(h + 1, 1), ws.getCell(h + 1, ws.columnCount)]) {
        expect(cell.border, `${ws.name} ${cell.address}`).toMatchObject({ top: { style: 'thin' }, left: { style: 'thin' }, bottom: { style: 'thin' }, right: { style: 'thin' } });
      }
      expect(ws.columns.every((c) => (c.width ?? 0) >= 4), ws.name).toBe(true);
    }
  });

  it('dates are real dates; moments are Shanghai wall-clock times', async () => {
    const wb = await book(w.campaign.ids.countyLeader);
    const o = wb.getWorksheet('逾期清单')!;
    const h = headerRow(o, '序号');
    expect(texts(o, h)).toEqual(['序号', '乡镇', '村(社区)', '阶段', '截止日期', '逾期天数', '状态', '责任干部', '包村领导、工作组']);
    expect(o.getCell(h + 1, 5).value).toBeInstanceOf(Date);
    expect(o.getCell(h + 1, 5).numFmt).toBe('yyyy-mm-dd');
    const r = wb.getWorksheet('问题清单')!;
    const rh = headerRow(r, '编号');
    const col = texts(r, rh).indexOf('登记时间') + 1;
    // Opened at 03:00 Shanghai on 11-12 (19:00 UTC on 11-11): shown as the Shanghai time.
    expect((r.getCell(rh + 1, col).value as Date).toISOString()).toBe('2026-11-12T03:00:00.000Z');
    expect(r.getCell(rh + 1, col).numFmt).toBe('yyyy-mm-dd hh:mm');
  });
});

describe('进度一览 (village × stage)', () => {
  it('one row per village sorted by township then name, a column per stage, a legend', async () => {
    const wb = await book(w.campaign.ids.countyLeader);
    const m = wb.getWorksheet('进度一览')!;
    expect(String(m.getCell('A3').value)).toMatch(/^说明：“✓ 11-20”已完成.*红底“逾期 11-15”.*受阻/);
    const h = headerRow(m, '序号');
    const head = texts(m, h);
    expect(head.slice(0, 4)).toEqual(['序号', '乡镇', '村(社区)', '选举日']);
    expect(head).toContain('审计');
    expect(head).toContain('村(居)委会选举'); // 村 and 社区 both in scope
    expect(head.slice(-2)).toEqual(['已完成', '逾期']);
    expect(head).toHaveLength(4 + 16 + 2);
    expect(m.views[0]).toMatchObject({ xSplit: 4 });
    const rows: [string, string][] = [];
    for (let r = h + 1; r < h + 1 + 50; r++) rows.push([String(m.getCell(r, 2).value), String(m.getCell(r, 3).value)]);
    const collator = new Intl.Collator('zh-Hans-CN');
    const sorted = [...rows].sort((a, b) => collator.compare(a[0], b[0]) || collator.compare(a[1], b[1]));
    expect(rows).toEqual(sorted);
    expect(new Set(rows.map((r) => r[0])).size).toBe(6);
    expect(String(m.getCell(h + 51, 1).value)).toMatch(/^合计：50 个村\(社区\)，必经阶段已完成 \d+\/800 项/);
  });

  it('✓ with the completion date, the deadline when pending, 逾期 in red, 受阻 marked', async () => {
    const wb = await book(w.campaign.ids.countyLeader);
    const m = wb.getWorksheet('进度一览')!;
    const h = headerRow(m, '序号');
    const rowOf = (township: string, village: string) => {
      for (let r = h + 1; r <= m.rowCount; r++) if (m.getCell(r, 2).value === township && m.getCell(r, 3).value === village) return r;
      throw new Error(`${township}${village}`);
    };
    const col = (stage: string) => texts(m, h).indexOf(stage) + 1;
    const row = (township: string, village: string) => w.repos.roster.villages().find((v) => v.township === township && v.name === village)!;
    // Check each cell of one village against its stored rows.
    const v = row('郭道镇', '北关村');
    const stored = w.repos.plan.progress(v.id);
    const r = rowOf('郭道镇', '北关村');
    const audit = stored.get('audit')!;
    expect(m.getCell(r, col('审计')).value).toBe(`✓ ${audit.completed_on!.slice(5)}`);
    expect(m.getCell(r, col('审计')).font?.color?.argb).toBe('FF006100');
    // Election day 2026-12-01: 候选人提名 (−7) is due 11-24, not yet due.
    expect(m.getCell(r, col('候选人提名')).value).toBe('11-24');
    expect(solid(m.getCell(r, col('候选人提名')))).toBeUndefined();

    let overdue = 0;
    let blocked = 0;
    for (let rr = h + 1; rr < h + 51; rr++) {
      for (let c = 5; c < 5 + 16; c++) {
        const cell = m.getCell(rr, c);
        const text = String(cell.value ?? '');
        const fill = solid(cell);
        if (text.startsWith('逾期 ')) {
          overdue++;
          expect(text).toMatch(/^逾期 \d\d-\d\d$/);
          expect(fill).toBe('FFFFC7CE');
          expect(cell.font).toMatchObject({ bold: true, color: { argb: 'FFC00000' } });
          expect(text.slice(3) < '11-20').toBe(true); // the deadline has passed
        } else if (text.startsWith('受阻 ')) {
          blocked++;
          expect(['FFFFC7CE', 'FFFFEB9C']).toContain(fill);
        } else if (text.startsWith('✓')) expect(fill).toBeUndefined();
      }
    }
    expect(overdue).toBeGreaterThan(20);
    expect(blocked).toBeGreaterThan(0);
    // The matrix's red cells are the overdue list's items.
    const o = wb.getWorksheet('逾期清单')!;
    let red = 0;
    for (let rr = h + 1; rr < h + 51; rr++) for (let c = 5; c < 5 + 16; c++) if (solid(m.getCell(rr, c)) === 'FFFFC7CE') red++;
    const listed = o.rowCount - headerRow(o, '序号') - 1; // less the total line
    expect(red).toBe(listed);
  });
});

describe('逾期清单', () => {
  it('sorted by township, village, then deadline, with the responsible cadre', async () => {
    const wb = await book(w.campaign.ids.countyLeader);
    const o = wb.getWorksheet('逾期清单')!;
    const h = headerRow(o, '序号');
    const items: { t: string; v: string; d: number; cadre: string; team: string }[] = [];
    for (let r = h + 1; typeof o.getCell(r, 1).value === 'number'; r++) {
      items.push({ t: String(o.getCell(r, 2).value), v: String(o.getCell(r, 3).value), d: (o.getCell(r, 5).value as Date).getTime(), cadre: String(o.getCell(r, 8).value), team: String(o.getCell(r, 9).value) });
    }
    expect(items.length).toBeGreaterThan(50);
    const collator = new Intl.Collator('zh-Hans-CN');
    const sorted = [...items].sort((a, b) => collator.compare(a.t, b.t) || collator.compare(a.v, b.v) || a.d - b.d);
    expect(items).toEqual(sorted);
    expect(items.every((i) => i.cadre.length > 0)).toBe(true);
    expect(items[0]!.team).toMatch(/（工作组）/);
    // The cadres are the village's assigned 干部.
    for (const i of [items[0]!, items[items.length - 1]!]) {
      const v = w.repos.roster.villages().find((x) => x.township === i.t && x.name === i.v)!;
      const cadres = w.repos.roster.assignees(v.id).filter((p) => p.role === '干部').map((p) => p.name);
      expect(i.cadre.split('、').sort()).toEqual(cadres.sort());
    }
  });
});

describe('乡镇排名 by scope', () => {
  const rankRows = (ws: ExcelJS.Worksheet) => {
    const h = headerRow(ws, '排名');
    const out: unknown[][] = [];
    for (let r = h + 1; r <= ws.rowCount; r++) out.push(texts(ws, r));
    return out;
  };

  it('a county leader: the townships of their county', async () => {
    const ws = (await book(w.campaign.ids.countyLeader)).getWorksheet('乡镇排名')!;
    expect(ws.getCell('A1').value).toBe('沁源县各乡镇村(社区)“两委”换届工作进度排名');
    const rows = rankRows(ws);
    expect(rows.map((r) => r[0])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(rows.map((r) => r[1]))).toEqual(new Set(w.campaign.townships));
    const rates = rows.map((r) => r[6] as number);
    expect([...rates].sort((a, b) => b - a)).toEqual(rates);
    expect(rows.reduce((n, r) => n + (r[2] as number), 0)).toBe(50);
  });

  it('a township leader: the same county ranking (figures only), their township marked', async () => {
    const ws = (await book(w.campaign.ids.townshipLeaders[1]!)).getWorksheet('乡镇排名')!;
    const rows = rankRows(ws);
    expect(rows).toHaveLength(6);
    const own = rows.filter((r) => String(r[1]).endsWith('（本乡镇）'));
    expect(own.map((r) => r[1])).toEqual(['郭道镇（本乡镇）']);
    expect(String(ws.getCell('A3').value)).toMatch(/不含其他乡镇的村和人员/);
    const h = headerRow(ws, '排名');
    const ownRow = h + 1 + rows.indexOf(own[0]!);
    expect(ws.getCell(ownRow, 2).font?.bold).toBe(true);
    // Nothing of the other county, and no village or person names of other townships in any sheet but the ranking.
    expect(rows.some((r) => String(r[1]).includes('新店镇'))).toBe(false);
  });

  it('an admin without a scope: every county’s townships, grouped by county', async () => {
    const wb = await book('all');
    const ws = wb.getWorksheet('乡镇排名')!;
    expect(ws.getCell('A1').value).toBe('各县(市、区)各乡镇村(社区)“两委”换届工作进度排名');
    const rows = rankRows(ws);
    const groups = rows.filter((r) => typeof r[0] === 'string');
    expect(groups.map((g) => String(g[0]).split('（')[0])).toEqual(['沁源县', '沁县']);
    expect(String(groups[0]![0])).toMatch(/^沁源县（各县第 1 名）：6 个乡镇、50 个村\(社区\)/);
    const qinxian = rows.slice(rows.indexOf(groups[1]!) + 1);
    expect(qinxian.map((r) => [r[0], String(r[1])])).toEqual([
      [1, expect.stringMatching(/新店镇|漳源镇/)],
      [2, expect.stringMatching(/新店镇|漳源镇/)],
    ]);
    expect(wb.getWorksheet('进度一览')!.getCell('A1').value).toBe('各县(市、区)村(社区)“两委”换届工作进度表');
    // Province-wide lists carry the county.
    expect(texts(wb.getWorksheet('进度一览')!, headerRow(wb.getWorksheet('进度一览')!, '序号')).slice(0, 3)).toEqual(['序号', '县(市、区)', '乡镇']);
  });
});
