import { inflateRawSync } from 'node:zlib';
import { UserError } from '../../errors.js';
import { entryDataStart, readZipDirectory, ZipShapeError, type ZipEntry } from './zip-directory.js';

/**
 * What a workbook may inflate to, all parts together, and its XML parts alone.
 * A province's 60,000-row 人员 sheet with a 30,000-row 村社区 sheet is about
 * 40 MB of XML; beyond these the file is a zip bomb or mostly something else,
 * and parsing it would take gigabytes.
 */
export const MAX_UNZIPPED_BYTES = 128 * 1024 * 1024;
export const MAX_XML_BYTES = 96 * 1024 * 1024;
const MAX_ZIP_ENTRIES = 5000;

export const CFB_MAGIC = Buffer.from('d0cf11e0a1b11ae1', 'hex');
export const utf16 = (s: string) => Buffer.from(s, 'utf16le');

/**
 * Checks a would-be .xlsx before any parser sees it, and says in Chinese what
 * is wrong: an encrypted (password) workbook or an old .xls (both Compound
 * Files, not zips), not a zip at all, a cut-off download, a zip that is not a
 * workbook, or one that inflates beyond MAX_UNZIPPED_BYTES. Every part is
 * really inflated here under a hard output cap: the sizes a zip declares can lie.
 */
export function checkXlsxBytes(bytes: Buffer): void {
  if (bytes.subarray(0, 8).equals(CFB_MAGIC)) {
    if (bytes.includes(utf16('EncryptedPackage')) || bytes.includes(utf16('EncryptionInfo'))) {
      throw new UserError('该工作簿设置了打开密码（已加密），机器人无法读取。请在 Excel 中打开，「文件 → 信息 → 保护工作簿 → 用密码进行加密」清空密码并保存后，重新发送。');
    }
    throw new UserError('该文件是旧版 Excel（.xls）或其他 Office 格式，只是扩展名为 .xlsx。请在 Excel 中「另存为 → Excel 工作簿 (*.xlsx)」后再导入。');
  }
  const notWorkbook = '无法读取该 .xlsx 文件：文件内容不是 Excel 工作簿（可能已损坏，或只是把扩展名改成了 .xlsx）。请在 Excel 中打开后另存为 .xlsx 再发送。';
  if (bytes.length < 22 || bytes.readUInt32LE(0) !== 0x04034b50) throw new UserError(notWorkbook);
  const truncated = new UserError('无法读取该 .xlsx 文件：文件不完整或已损坏（可能没有传完）。请重新保存后再发送。');
  let entries: ZipEntry[];
  try {
    entries = readZipDirectory(bytes, MAX_ZIP_ENTRIES);
  } catch (e) {
    if (e instanceof ZipShapeError && e.kind === 'too_many') throw new UserError(`无法读取该 .xlsx 文件：其中的部件过多（${e.count} 个），不像是花名册工作簿。`);
    if (e instanceof ZipShapeError) throw truncated;
    throw e;
  }
  const names = new Set<string>();
  let total = 0;
  let xml = 0;
  const tooBig = (n: number, limit: number) =>
    new UserError(`该工作簿解压后过大（超过 ${Math.floor(Math.max(n, limit) / 1048576)} MB，上限 ${limit / 1048576} MB），疑似“压缩炸弹”或含有大量与花名册无关的内容，已拒绝读取。请只保留人员、村社区、节点、谈话四张表后另存再发送。`);
  for (const e of entries) {
    const { name, flags, method, csize, usize } = e;
    names.add(name);
    if (flags & 1) throw new UserError('该工作簿的压缩包设置了密码，机器人无法读取。请去掉密码另存为 .xlsx 后再发送。');
    if (csize === 0xffffffff || usize === 0xffffffff) throw tooBig(MAX_UNZIPPED_BYTES + 1, MAX_UNZIPPED_BYTES);
    if (name.endsWith('/')) continue;
    const isXml = /\.(xml|rels|vml)$/i.test(name);
    // The declared size first (cheap), then the real one.
    if (total + usize > MAX_UNZIPPED_BYTES) throw tooBig(total + usize, MAX_UNZIPPED_BYTES);
    if (isXml && xml + usize > MAX_XML_BYTES) throw tooBig(xml + usize, MAX_XML_BYTES);
    const start = entryDataStart(bytes, e);
    if (start === null || start + csize > bytes.length) throw truncated;
    const data = bytes.subarray(start, start + csize);
    let real: number;
    if (method === 0) real = csize;
    else if (method === 8) {
      const budget = Math.min(MAX_UNZIPPED_BYTES - total, isXml ? MAX_XML_BYTES - xml : Infinity);
      try {
        real = inflateRawSync(data, { maxOutputLength: budget + 1 }).length;
      } catch (e) {
        if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw tooBig(budget + 1, isXml ? MAX_XML_BYTES : MAX_UNZIPPED_BYTES);
        throw truncated;
      }
      if (real > budget) throw tooBig(real, isXml ? MAX_XML_BYTES : MAX_UNZIPPED_BYTES);
    } else throw new UserError(notWorkbook);
    total += real;
    if (isXml) xml += real;
  }
  if (!names.has('[Content_Types].xml') || !names.has('xl/workbook.xml')) {
    throw new UserError('无法读取该 .xlsx 文件：这是一个压缩包，但不是 Excel 工作簿（没有工作表）。请在 Excel 中另存为 .xlsx 再发送。');
  }
}

