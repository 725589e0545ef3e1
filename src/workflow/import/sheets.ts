/**
 * The import workbook (SPEC §3.4): sheet and column names are fixed; a few
 * spellings people really use are accepted for the headers.
 */
export interface SheetSpec {
  name: string;
  required: boolean;
  columns: readonly { name: string; required: boolean; aliases: string[]; example: string; note?: string }[];
}

export const SHEETS: readonly SheetSpec[] = [
  {
    name: '人员',
    required: false,
    columns: [
      { name: '姓名', required: true, aliases: ['名字'], example: '（示例）张三' },
      { name: '飞书open_id', required: true, aliases: ['open_id', 'openid', '飞书openid', 'OpenID', '飞书ID'], example: 'ou_0123456789abcdef0123456789abcdef' },
      { name: '角色', required: true, aliases: ['身份'], example: '干部', note: '管理员/领导/干部/工作组' },
      { name: '县', required: true, aliases: ['县区', '县(区)', '县（区）', '区县'], example: '沁源县' },
      { name: '乡镇', required: true, aliases: ['乡镇街道', '乡镇(街道)', '乡镇（街道）', '街道'], example: '沁河镇', note: '县级人员留空' },
      { name: '负责村社区', required: true, aliases: ['负责村(社区)', '负责村（社区）', '包联村', '包村'], example: '城西村、城东村', note: '多个用、分隔' },
    ],
  },
  {
    name: '村社区',
    required: false,
    columns: [
      { name: '县', required: true, aliases: ['县区', '县(区)', '县（区）', '区县'], example: '沁源县' },
      { name: '乡镇', required: true, aliases: ['乡镇街道', '乡镇(街道)', '乡镇（街道）', '街道'], example: '沁河镇' },
      { name: '村社区', required: true, aliases: ['村(社区)', '村（社区）', '村/社区', '名称'], example: '（示例）城西村' },
      { name: '类型', required: true, aliases: [], example: '村', note: '村/社区' },
      { name: '选举日', required: true, aliases: ['选举日期', '村委会选举日'], example: '2026-11-28', note: 'YYYY-MM-DD' },
    ],
  },
  {
    name: '节点',
    required: false,
    columns: [
      { name: '村社区', required: true, aliases: ['村(社区)', '村（社区）', '村/社区'], example: '（示例）城西村' },
      { name: '阶段', required: true, aliases: ['节点', '环节'], example: '选民名单公布' },
      { name: '截止日期', required: true, aliases: ['截止', '完成时限', '截止时间'], example: '2026-11-05' },
      { name: '乡镇', required: false, aliases: ['乡镇街道'], example: '沁河镇', note: '可选：村名重复时用于区分' },
    ],
  },
  {
    name: '谈话',
    required: false,
    columns: [
      { name: '谈话类别', required: true, aliases: ['类别'], example: '选前谈话' },
      { name: '谈话对象', required: true, aliases: ['对象'], example: '（示例）李四' },
      { name: '村社区', required: true, aliases: ['村(社区)', '村（社区）', '村/社区'], example: '城西村', note: '乡镇党委书记必谈填乡镇名' },
      { name: '谈话人', required: true, aliases: ['谈话人姓名'], example: '张三', note: '多人用、分隔' },
      { name: '截止日期', required: true, aliases: ['截止', '完成时限'], example: '2026-11-10' },
      { name: '乡镇', required: false, aliases: ['乡镇街道'], example: '沁河镇', note: '可选：村名重复时用于区分' },
    ],
  },
];

export const SHEET_NAMES = SHEETS.map((s) => s.name);

/** Rows whose first cell starts with this are the template's examples, never imported. */
export const EXAMPLE_MARK = '（示例）';

/** One sheet as read: its header row, and each data row by column name with its row number (1-based, as in Excel). */
export interface SheetData {
  name: string;
  /** Column name (canonical) → index; missing required columns are reported by the validator. */
  headers: string[];
  rows: { row: number; cells: Record<string, string> }[];
}

export interface ImportIssue {
  sheet: string;
  row: number | null;
  column: string | null;
  reason: string;
}

export function canonicalHeader(spec: SheetSpec, header: string): string | undefined {
  const h = header.normalize('NFKC').replace(/\s+/g, '').toLowerCase();
  for (const c of spec.columns) {
    for (const n of [c.name, ...c.aliases]) if (n.normalize('NFKC').replace(/\s+/g, '').toLowerCase() === h) return c.name;
  }
  return undefined;
}

export function formatIssue(i: ImportIssue): string {
  return `${i.sheet}${i.row !== null ? ` 第${i.row}行` : ''}${i.column ? ` 「${i.column}」` : ''}：${i.reason}`;
}
