/**
 * One sheet as plain text cells, whatever format it came from: what the
 * header finder and the row reader work on.
 */
export interface Grid {
  file: string;
  /** The real tab name; a CSV's file name without extension. */
  sheetName: string;
  /** rows[r][c], r = Excel row − 1; missing cells are undefined or ''. */
  rows: (string | undefined)[][];
  /** Formula text by row index then column index ('' when the file does not say). */
  formulas: Map<number, Map<number, string>>;
  /** Rows the sheet has beyond what was read (the row cap), for the 行数过多 refusal. */
  totalRows: number;
}

export interface MergeRange {
  r0: number;
  c0: number;
  r1: number;
  c1: number;
}

/** Merges larger than the sheet's used area are clipped to it; wider than this they are not filled. */
const MAX_MERGE_COLUMNS = 256;

/**
 * Copies each merged range's top-left value into every cell of the range: a
 * 乡镇 merged down over its villages then belongs to each village's row, and a
 * group header 联系方式 over 手机号码/办公电话 to both columns. Cost is the
 * merged area clipped to the rows actually read.
 */
export function fillMerges(rows: (string | undefined)[][], merges: readonly MergeRange[]): void {
  for (const m of merges) {
    const top = rows[m.r0];
    const v = top?.[m.c0];
    if (v === undefined || v === '') continue;
    const r1 = Math.min(m.r1, rows.length - 1);
    const c1 = Math.min(m.c1, m.c0 + MAX_MERGE_COLUMNS);
    for (let r = m.r0; r <= r1; r++) {
      const row = (rows[r] ??= []);
      for (let c = m.c0; c <= c1; c++) if (r !== m.r0 || c !== m.c0) row[c] = v;
    }
  }
}
