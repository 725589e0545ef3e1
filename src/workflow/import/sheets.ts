/**
 * The import workbook (SPEC §3.4): four kinds of sheet, each recognised by its
 * header columns (not by its tab name), with the spellings real county files
 * use accepted for the headers.
 */
export interface SheetColumn {
  name: string;
  required: boolean;
  /**
   * Other spellings, best first: later ones are vaguer (联系方式, 电话 for
   * 手机号). When two header cells name the same column the better-ranked
   * spelling wins and the other is ignored (and noted); equal rank is 列重复.
   */
  aliases: string[];
  example: string;
  note?: string;
}

export interface SheetSpec {
  name: string;
  required: boolean;
  columns: readonly SheetColumn[];
}

const COUNTY = ['县区', '县(区)', '区县', '县(市、区)', '县(市区)', '县市区', '所在县', '所属县', '县名'];
const TOWNSHIP = ['乡镇街道', '乡镇(街道)', '街道', '所在乡镇', '乡镇名称', '所属乡镇', '乡(镇)', '乡镇(街道)名称', '所在乡镇(街道)', '所属乡镇(街道)'];
const VILLAGE = ['村(社区)', '村/社区', '村(社区)名称', '村社区名称', '行政村', '村名', '村(居)', '村(居)名称', '名称'];

export const SHEETS: readonly SheetSpec[] = [
  {
    name: '人员',
    required: false,
    columns: [
      { name: '姓名', required: true, aliases: ['干部姓名', '人员姓名', '名字'], example: '（示例）张三' },
      { name: '飞书open_id', required: false, aliases: ['open_id', 'openid', '飞书openid', 'OpenID', '飞书ID'], example: 'ou_0123456789abcdef0123456789abcdef', note: '飞书open_id、手机号、邮箱至少填一项' },
      { name: '手机号', required: false, aliases: ['手机', '手机号码', '移动电话', '联系电话', '联系方式', '电话', '电话号码'], example: '13912345678', note: '用于在飞书通讯录中找到本人' },
      { name: '邮箱', required: false, aliases: ['电子邮箱', '邮件', '电子邮件', 'Email', 'E-mail', 'mail'], example: 'zhangsan@example.com' },
      { name: '角色', required: true, aliases: ['身份', '人员类别', '职责'], example: '干部', note: '管理员/领导/干部/工作组' },
      { name: '县', required: false, aliases: COUNTY, example: '沁源县', note: '可不填：按导入时指定的县' },
      { name: '乡镇', required: true, aliases: TOWNSHIP, example: '沁河镇', note: '县级人员留空' },
      { name: '负责村社区', required: true, aliases: ['负责村(社区)', '包联村(社区)', '包联村', '包联村社区', '包村', '联系村', '负责村', '联系村(社区)', '包联村(居)'], example: '城西村、城东村', note: '多个用、分隔' },
    ],
  },
  {
    name: '村社区',
    required: false,
    columns: [
      { name: '县', required: false, aliases: COUNTY, example: '沁源县', note: '可不填：按导入时指定的县' },
      { name: '乡镇', required: true, aliases: TOWNSHIP, example: '沁河镇' },
      { name: '村社区', required: true, aliases: VILLAGE, example: '（示例）城西村' },
      { name: '类型', required: false, aliases: ['村/社区类型', '类别'], example: '村', note: '村/社区；不填时名称以“社区”结尾的为社区' },
      { name: '选举日', required: true, aliases: ['选举日期', '选举时间', '计划选举日期', '计划选举时间', '村委会选举日', '选举日(YYYY-MM-DD)'], example: '2026-11-28', note: 'YYYY-MM-DD' },
      { name: '原名称', required: false, aliases: ['原名', '原村名', '曾用名', '原村(社区)名称', '更名前名称'], example: '', note: '改名时填写原来的名称（同一乡镇），导入前会请您确认' },
    ],
  },
  {
    name: '节点',
    required: false,
    columns: [
      { name: '村社区', required: true, aliases: VILLAGE, example: '（示例）城西村' },
      { name: '阶段', required: true, aliases: ['节点', '环节', '工作阶段', '阶段名称'], example: '选民名单公布' },
      { name: '截止日期', required: true, aliases: ['截止', '完成时限', '截止时间', '完成时间', '截止日'], example: '2026-11-05' },
      { name: '乡镇', required: false, aliases: TOWNSHIP, example: '沁河镇', note: '可选：村名重复时用于区分' },
    ],
  },
  {
    name: '谈话',
    required: false,
    columns: [
      { name: '谈话类别', required: true, aliases: ['类别', '谈话类型'], example: '选前谈话' },
      { name: '谈话对象', required: true, aliases: ['对象', '谈话对象姓名'], example: '（示例）李四' },
      { name: '村社区', required: true, aliases: VILLAGE, example: '城西村', note: '乡镇党委书记必谈填乡镇名' },
      { name: '谈话人', required: true, aliases: ['谈话人姓名'], example: '张三', note: '多人用、分隔' },
      { name: '截止日期', required: true, aliases: ['截止', '完成时限', '截止时间', '完成时间'], example: '2026-11-10' },
      { name: '乡镇', required: false, aliases: TOWNSHIP, example: '沁河镇', note: '可选：村名重复时用于区分' },
    ],
  },
];

export const SHEET_NAMES = SHEETS.map((s) => s.name);

/** Rows whose first cell starts with this are the template's examples, never imported. */
export const EXAMPLE_MARK = '（示例）';

/** One data row: its cells by canonical column name, and where it was read (row 1-based, as Excel shows it). */
export interface SheetRow {
  row: number;
  cells: Record<string, string>;
  /** File the row came from (the reader always sets it; optional for hand-built data). */
  file?: string;
  /** Real tab name (a CSV: its file name without extension). */
  sheetName?: string;
}

/**
 * One kind of sheet as read. `name` is the canonical kind (人员…); when a
 * workbook or folder holds two sheets of one kind their rows are concatenated
 * here, each row keeping its own file/sheetName/row, and `file`/`sheetName`
 * name the first of them.
 */
export interface SheetData {
  name: string;
  /** Canonical column names present (in any of the sources). */
  headers: string[];
  rows: SheetRow[];
  file?: string;
  sheetName?: string;
}

export interface ImportIssue {
  sheet: string;
  row: number | null;
  column: string | null;
  reason: string;
  file?: string;
  sheetName?: string;
}

/**
 * Header text as compared: NFKC (full-width letters, （） and ＊ become ASCII),
 * no whitespace, 【】〔〕［］ as (), no trailing required mark (* or (必填)),
 * lower case.
 */
export function normalizeHeader(header: string): string {
  return header
    .normalize('NFKC')
    .replace(/[\s\u3000]+/g, '')
    .replace(/[【〔［[]/g, '(')
    .replace(/[】〕］\]]/g, ')')
    .replace(/[﹡∗✱*]+$/u, '')
    .replace(/\((必填|必选|选填|可选|可不填|必须填写)\)$/u, '')
    .replace(/[﹡∗✱*]+$/u, '')
    .replace(/^[﹡∗✱*]+/u, '')
    .replace(/[:：]$/u, '')
    .toLowerCase();
}

const lookups = new Map<SheetSpec, Map<string, { column: string; rank: number }>>();

/** Normalised header → canonical column and the spelling's rank (0 = the name itself). */
export function headerLookup(spec: SheetSpec): ReadonlyMap<string, { column: string; rank: number }> {
  let m = lookups.get(spec);
  if (!m) {
    m = new Map();
    for (const c of spec.columns) {
      [c.name, ...c.aliases].forEach((n, rank) => {
        const k = normalizeHeader(n);
        if (!m!.has(k)) m!.set(k, { column: c.name, rank });
      });
    }
    lookups.set(spec, m);
  }
  return m;
}

export function canonicalHeader(spec: SheetSpec, header: string): string | undefined {
  return headerLookup(spec).get(normalizeHeader(header))?.column;
}

/**
 * One problem as a line: 人员 第4行 「手机号」：… ; when the sheet was not
 * named after its kind, where it really is comes first:
 * 文件「花名册.xlsx」工作表「Sheet1」（人员）第4行 「手机号」：…
 */
export function formatIssue(i: ImportIssue): string {
  const csv = !!i.file && /\.csv$/i.test(i.file);
  const elsewhere = !!i.sheetName && i.sheetName !== i.sheet;
  let where = i.sheet;
  if (elsewhere) where = `${i.file ? `文件「${i.file}」` : ''}${csv ? '' : `工作表「${i.sheetName}」`}（${i.sheet}）`;
  return `${where}${i.row !== null ? `${elsewhere ? '' : ' '}第${i.row}行` : ''}${i.column ? ` 「${i.column}」` : ''}：${i.reason}`;
}
