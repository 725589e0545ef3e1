import type ExcelJS from 'exceljs';
import { loadExcelJS } from '../excel.js';
import { TALK_CATEGORIES } from '../talks.js';
import { stagesFor } from '../stage-templates.js';
import { EXAMPLE_MARK, SHEETS } from './sheets.js';

/**
 * The empty import workbook: one sheet per SPEC §3.4 table with its header
 * row and one example row (marked （示例）, which the import skips), plus a
 * 说明 sheet listing roles, stage names and talk categories.
 */
export async function templateWorkbook(): Promise<ExcelJS.Workbook> {
  const wb = new (await loadExcelJS()).Workbook();
  wb.creator = '换届助手';
  for (const spec of SHEETS) {
    const ws = wb.addWorksheet(spec.name);
    ws.columns = spec.columns.map((c) => ({ header: c.name, key: c.name, width: Math.max(12, c.name.length * 3 + 4) }));
    ws.addRow(spec.columns.map((c) => c.example));
    ws.getRow(1).font = { bold: true };
    ws.getRow(2).font = { italic: true, color: { argb: 'FF888888' } };
    spec.columns.forEach((c, i) => {
      if (c.note) ws.getCell(1, i + 1).note = c.note;
    });
    ws.views = [{ state: 'frozen', ySplit: 1 }];
  }
  const help = wb.addWorksheet('说明');
  help.columns = [{ header: '说明', key: 'a', width: 100 }];
  const lines = [
    `以「${EXAMPLE_MARK}」开头的行是示例，导入时会跳过；可以删除。`,
    '人员表：角色为 管理员/领导/干部/工作组；乡镇留空表示县级；负责村社区可填多个，用「、」分隔。',
    '村社区表：类型为 村 或 社区；选举日为村(居)委会选举日，格式 YYYY-MM-DD；各阶段截止日期按选举日倒排。',
    '节点表（可选）：覆盖某村某阶段的截止日期。',
    `村的阶段：${stagesFor('村').map((s) => s.name).join('、')}`,
    `社区的阶段：${stagesFor('社区').map((s) => s.name).join('、')}`,
    `谈话表（可选）：谈话类别为 ${TALK_CATEGORIES.map((c) => c.name).join('、')}；乡镇党委书记必谈的村社区列填乡镇名。`,
    '整个文件校验通过才会导入，任何一行有错都不会写入；再次导入会按 open_id、村名更新。',
  ];
  for (const l of lines) help.addRow([l]);
  return wb;
}

export async function writeTemplate(path: string): Promise<void> {
  await (await templateWorkbook()).xlsx.writeFile(path);
}
