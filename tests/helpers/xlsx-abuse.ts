import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { crc32, createDeflateRaw, deflateRawSync, constants as zc } from 'node:zlib';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';

/**
 * Hostile workbooks for the import (issue 8): password-protected, zip bombs,
 * padded to a size, formulas. Built honestly: the encrypted workbook is a real
 * ECMA-376 "agile" encryption (what Excel 2010+ writes when a password is set)
 * inside a real Compound File (MS-CFB), so any reader that can decrypt Office
 * files opens it with the password.
 */

// ─── Compound File Binary (MS-CFB v3, 512-byte sectors) ─────────────────────

const FREESECT = 0xffffffff;
const ENDOFCHAIN = 0xfffffffe;
const FATSECT = 0xfffffffd;
const NOSTREAM = 0xffffffff;
const SECTOR = 512;
const MINI = 64;
const MINI_CUTOFF = 4096;

/** A CFB file holding `streams` directly under the root storage. */
export function cfbFile(streams: { name: string; data: Buffer }[]): Buffer {
  const mini = streams.filter((s) => s.data.length < MINI_CUTOFF);
  const big = streams.filter((s) => s.data.length >= MINI_CUTOFF);

  // Mini stream: small streams in 64-byte mini sectors, chained in the mini FAT.
  const miniFat: number[] = [];
  const miniStart = new Map<string, number>();
  const miniParts: Buffer[] = [];
  for (const s of mini) {
    const n = Math.max(1, Math.ceil(s.data.length / MINI));
    const start = miniFat.length;
    miniStart.set(s.name, s.data.length ? start : ENDOFCHAIN);
    for (let i = 0; i < n; i++) miniFat.push(i === n - 1 ? ENDOFCHAIN : start + i + 1);
    miniParts.push(Buffer.concat([s.data, Buffer.alloc(n * MINI - s.data.length)]));
  }
  const miniStream = Buffer.concat(miniParts);

  const sectorsOf = (bytes: number) => Math.ceil(bytes / SECTOR);
  const dirEntries = 1 + streams.length;
  const dirSectors = sectorsOf(dirEntries * 128);
  const miniFatSectors = sectorsOf(miniFat.length * 4);
  const miniStreamSectors = sectorsOf(miniStream.length);
  const bigSectors = big.map((s) => sectorsOf(s.data.length));
  const payload = dirSectors + miniFatSectors + miniStreamSectors + bigSectors.reduce((a, b) => a + b, 0);
  let fatSectors = 1;
  while (fatSectors * (SECTOR / 4) < payload + fatSectors) fatSectors++;
  if (fatSectors > 109) throw new Error('cfbFile: too large for a header-only DIFAT');

  // Sector layout: FAT, directory, mini FAT, mini stream, big streams.
  const fat: number[] = [];
  const chain = (count: number): number => {
    if (!count) return ENDOFCHAIN;
    const start = fat.length;
    for (let i = 0; i < count; i++) fat.push(i === count - 1 ? ENDOFCHAIN : start + i + 1);
    return start;
  };
  for (let i = 0; i < fatSectors; i++) fat.push(FATSECT);
  const dirStart = chain(dirSectors);
  const miniFatStart = chain(miniFatSectors);
  const miniStreamStart = chain(miniStreamSectors);
  const bigStart = new Map<string, number>();
  big.forEach((s, i) => bigStart.set(s.name, chain(bigSectors[i]!)));
  while (fat.length < fatSectors * (SECTOR / 4)) fat.push(FREESECT);

  const header = Buffer.alloc(SECTOR);
  Buffer.from('d0cf11e0a1b11ae1', 'hex').copy(header, 0);
  header.writeUInt16LE(0x003e, 0x18);
  header.writeUInt16LE(0x0003, 0x1a);
  header.writeUInt16LE(0xfffe, 0x1c);
  header.writeUInt16LE(9, 0x1e);
  header.writeUInt16LE(6, 0x20);
  header.writeUInt32LE(0, 0x28);
  header.writeUInt32LE(fatSectors, 0x2c);
  header.writeUInt32LE(dirStart, 0x30);
  header.writeUInt32LE(MINI_CUTOFF, 0x38);
  header.writeUInt32LE(miniFatSectors ? miniFatStart : ENDOFCHAIN, 0x3c);
  header.writeUInt32LE(miniFatSectors, 0x40);
  header.writeUInt32LE(ENDOFCHAIN, 0x44);
  header.writeUInt32LE(0, 0x48);
  for (let i = 0; i < 109; i++) header.writeUInt32LE(i < fatSectors ? i : FREESECT, 0x4c + i * 4);

  // Directory: the root, then the streams as a (valid, all-black) binary tree ordered by (length, upper-case name).
  const order = [...streams].sort((a, b) => a.name.length - b.name.length || (a.name.toUpperCase() < b.name.toUpperCase() ? -1 : 1));
  const ids = new Map(order.map((s, i) => [s.name, i + 1]));
  const tree = new Map<number, { left: number; right: number }>();
  const build = (lo: number, hi: number): number => {
    if (lo > hi) return NOSTREAM;
    const mid = (lo + hi) >> 1;
    const id = mid + 1;
    tree.set(id, { left: build(lo, mid - 1), right: build(mid + 1, hi) });
    return id;
  };
  const rootChild = build(0, order.length - 1);
  const dir = Buffer.alloc(dirSectors * SECTOR);
  const entry = (i: number, name: string, type: number, left: number, right: number, child: number, start: number, size: number) => {
    const o = i * 128;
    const n = Buffer.from(name + '\u0000', 'utf16le');
    n.copy(dir, o);
    dir.writeUInt16LE(n.length, o + 0x40);
    dir.writeUInt8(type, o + 0x42);
    dir.writeUInt8(1, o + 0x43);
    dir.writeUInt32LE(left, o + 0x44);
    dir.writeUInt32LE(right, o + 0x48);
    dir.writeUInt32LE(child, o + 0x4c);
    dir.writeUInt32LE(start, o + 0x74);
    dir.writeUInt32LE(size, o + 0x78);
  };
  entry(0, 'Root Entry', 5, NOSTREAM, NOSTREAM, rootChild, miniStream.length ? miniStreamStart : ENDOFCHAIN, miniStream.length);
  for (const s of order) {
    const id = ids.get(s.name)!;
    const t = tree.get(id)!;
    const start = s.data.length < MINI_CUTOFF ? miniStart.get(s.name)! : bigStart.get(s.name)!;
    entry(id, s.name, 2, t.left, t.right, NOSTREAM, start, s.data.length);
  }
  for (let i = dirEntries; i < dirSectors * 4; i++) {
    const o = i * 128;
    dir.writeUInt32LE(NOSTREAM, o + 0x44);
    dir.writeUInt32LE(NOSTREAM, o + 0x48);
    dir.writeUInt32LE(NOSTREAM, o + 0x4c);
  }

  const u32 = (xs: number[], sectors: number) => {
    const b = Buffer.alloc(sectors * SECTOR, 0xff);
    xs.forEach((x, i) => b.writeUInt32LE(x, i * 4));
    return b;
  };
  const pad = (b: Buffer, sectors: number) => Buffer.concat([b, Buffer.alloc(sectors * SECTOR - b.length)]);
  return Buffer.concat([
    header,
    u32(fat, fatSectors),
    dir,
    u32(miniFat, miniFatSectors),
    pad(miniStream, miniStreamSectors),
    ...big.map((s, i) => pad(s.data, bigSectors[i]!)),
  ]);
}

// ─── ECMA-376 agile encryption (MS-OFFCRYPTO 2.3.4.10–2.3.4.15) ─────────────

const BLOCK_VERIFIER_INPUT = Buffer.from([0xfe, 0xa7, 0xd2, 0x76, 0x3b, 0x4b, 0x9e, 0x79]);
const BLOCK_VERIFIER_VALUE = Buffer.from([0xd7, 0xaa, 0x0f, 0x6d, 0x30, 0x61, 0x34, 0x4e]);
const BLOCK_KEY_VALUE = Buffer.from([0x14, 0x6e, 0x0b, 0xe7, 0xab, 0xac, 0xd0, 0xd6]);
const BLOCK_HMAC_KEY = Buffer.from([0x5f, 0xb2, 0xad, 0x01, 0x0c, 0xb9, 0xe1, 0xf6]);
const BLOCK_HMAC_VALUE = Buffer.from([0xa0, 0x67, 0x7f, 0x02, 0xb2, 0x2c, 0x84, 0x33]);

const sha512 = (...parts: Buffer[]) => {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
};
const le32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
/** Truncates or pads (with 0x36) to `n` bytes, as the spec says for derived keys and IVs. */
const fit = (b: Buffer, n: number) => (b.length >= n ? b.subarray(0, n) : Buffer.concat([b, Buffer.alloc(n - b.length, 0x36)]));
const aes = (key: Buffer, iv: Buffer, data: Buffer) => {
  const c = createCipheriv('aes-256-cbc', key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
};
const pad16 = (b: Buffer) => (b.length % 16 ? Buffer.concat([b, Buffer.alloc(16 - (b.length % 16))]) : b);

/**
 * The workbook encrypted with `password` as Excel does it: a CFB file with an
 * `EncryptionInfo` stream (version 4.4, XML descriptor) and an
 * `EncryptedPackage` stream (size, then AES-256-CBC segments of 4096 bytes).
 */
export function encryptXlsx(xlsx: Buffer, password: string, spinCount = 100_000): Buffer {
  const keyDataSalt = randomBytes(16);
  const pwSalt = randomBytes(16);
  const intermediateKey = randomBytes(32);

  // The package: 8-byte size, then each 4096-byte segment with IV = H(keyDataSalt ‖ segment index).
  const segments: Buffer[] = [];
  for (let i = 0, n = 0; i < xlsx.length; i += 4096, n++) {
    const iv = fit(sha512(keyDataSalt, le32(n)), 16);
    segments.push(aes(intermediateKey, iv, pad16(xlsx.subarray(i, i + 4096))));
  }
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(xlsx.length));
  const encryptedPackage = Buffer.concat([size, ...segments]);

  // The password key: H0 = H(salt ‖ password), Hn = H(n ‖ Hn-1), then one key per purpose.
  let h = sha512(pwSalt, Buffer.from(password, 'utf16le'));
  for (let i = 0; i < spinCount; i++) h = sha512(le32(i), h);
  const pwKey = (block: Buffer) => fit(sha512(h, block), 32);
  const verifier = randomBytes(16);
  const encVerifierInput = aes(pwKey(BLOCK_VERIFIER_INPUT), pwSalt, verifier);
  const encVerifierValue = aes(pwKey(BLOCK_VERIFIER_VALUE), pwSalt, sha512(verifier));
  const encKeyValue = aes(pwKey(BLOCK_KEY_VALUE), pwSalt, intermediateKey);

  // Data integrity: an HMAC over the whole EncryptedPackage stream.
  const hmacKey = randomBytes(64);
  const hmacValue = createHmac('sha512', hmacKey).update(encryptedPackage).digest();
  const encHmacKey = aes(intermediateKey, fit(sha512(keyDataSalt, BLOCK_HMAC_KEY), 16), hmacKey);
  const encHmacValue = aes(intermediateKey, fit(sha512(keyDataSalt, BLOCK_HMAC_VALUE), 16), hmacValue);

  const b64 = (b: Buffer) => b.toString('base64');
  const xml =
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n' +
    '<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption" xmlns:p="http://schemas.microsoft.com/office/2006/keyEncryptor/password">' +
    `<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="${b64(keyDataSalt)}"/>` +
    `<dataIntegrity encryptedHmacKey="${b64(encHmacKey)}" encryptedHmacValue="${b64(encHmacValue)}"/>` +
    '<keyEncryptors><keyEncryptor uri="http://schemas.microsoft.com/office/2006/keyEncryptor/password">' +
    `<p:encryptedKey spinCount="${spinCount}" saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" ` +
    `saltValue="${b64(pwSalt)}" encryptedVerifierHashInput="${b64(encVerifierInput)}" encryptedVerifierHashValue="${b64(encVerifierValue)}" encryptedKeyValue="${b64(encKeyValue)}"/>` +
    '</keyEncryptor></keyEncryptors></encryption>';
  const info = Buffer.concat([Buffer.from([0x04, 0x00, 0x04, 0x00, 0x40, 0x00, 0x00, 0x00]), Buffer.from(xml, 'utf8')]);
  return cfbFile([
    { name: 'EncryptionInfo', data: info },
    { name: 'EncryptedPackage', data: encryptedPackage },
  ]);
}

// ─── Zip-level abuse ────────────────────────────────────────────────────────

/** An ordinary zip that is not a workbook (a text file and a picture). */
export async function zipNotXlsx(): Promise<Buffer> {
  const z = new JSZip();
  z.file('说明.txt', '这不是 Excel 工作簿。');
  z.file('images/a.png', randomBytes(2000));
  return z.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

/** A real workbook grown to `bytes` by an incompressible part (a "picture" the sheets never use). */
export async function paddedXlsx(xlsx: Buffer, bytes: number): Promise<Buffer> {
  const z = await JSZip.loadAsync(xlsx);
  const filler = Math.max(0, bytes - xlsx.length - 200);
  z.file('xl/media/image1.bin', randomBytes(filler), { compression: 'STORE' });
  return z.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

/**
 * A zip bomb shaped as a workbook: the 人员 sheet's XML inflates to
 * `inflatedBytes` (identical rows, so it deflates ~1000:1). The sheet part is
 * deflated in one streaming pass here; the rest of the workbook is real.
 * `declaredBytes` makes the zip lie about the inflated size (as crafted bombs do).
 */
export async function zipBombXlsx(xlsx: Buffer, inflatedBytes: number, opts: { declaredBytes?: number } = {}): Promise<Buffer> {
  const z = await JSZip.loadAsync(xlsx);
  const sheetPath = Object.keys(z.files).find((p) => /^xl\/worksheets\/sheet\d+\.xml$/.test(p))!;
  const head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>';
  const tail = '</sheetData></worksheet>';
  const row = '<row><c t="inlineStr"><is><t>张三</t></is></c><c t="inlineStr"><is><t>ou_bomb</t></is></c><c t="inlineStr"><is><t>干部</t></is></c></row>';
  const reps = Math.max(1, Math.floor((inflatedBytes - head.length - tail.length) / Buffer.byteLength(row)));
  const chunk = Buffer.from(row.repeat(8192));
  const full = Math.floor(reps / 8192);
  const rest = Buffer.from(row.repeat(reps - full * 8192));
  // Streaming deflate by hand: the same chunk fed many times, flushed only at the end.
  const d = createDeflateRaw({ level: 6 });
  const out: Buffer[] = [];
  d.on('data', (b: Buffer) => out.push(b));
  const done = new Promise<void>((r) => d.on('end', () => r()));
  const write = (b: Buffer) => (d.write(b) ? Promise.resolve() : new Promise<void>((r) => d.once('drain', () => r())));
  await write(Buffer.from(head));
  for (let i = 0; i < full; i++) await write(chunk);
  await write(rest);
  d.end(Buffer.from(tail));
  await done;
  const deflated = Buffer.concat(out);
  const size = head.length + full * chunk.length + rest.length + tail.length;
  // JSZip cannot take precompressed data, so the bomb's entry is written into the zip by hand.
  const others = await JSZip.loadAsync(xlsx);
  others.remove(sheetPath);
  const base = await others.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
  return appendDeflatedEntry(base, sheetPath, deflated, opts.declaredBytes ?? size, crcOfRepeated([Buffer.from(head), ...Array(full).fill(chunk), rest, Buffer.from(tail)]));
}

function crcOfRepeated(parts: Buffer[]): number {
  let c = 0;
  for (const p of parts) c = crc32(p, c);
  return c >>> 0;
}

/** Adds an already-deflated entry to a zip (rewrites the central directory). */
function appendDeflatedEntry(zip: Buffer, name: string, deflated: Buffer, size: number, crc: number): Buffer {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const cdCount = zip.readUInt16LE(eocd + 10);
  const cdSize = zip.readUInt32LE(eocd + 12);
  const cdOffset = zip.readUInt32LE(eocd + 16);
  const nameBytes = Buffer.from(name, 'utf8');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(0x0800, 6);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(deflated.length, 18);
  local.writeUInt32LE(size >>> 0, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(0x0800, 8);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(deflated.length, 20);
  central.writeUInt32LE(size >>> 0, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE(cdOffset, 42);
  const entries = zip.subarray(0, cdOffset);
  const cd = zip.subarray(cdOffset, cdOffset + cdSize);
  const newCdOffset = cdOffset + local.length + nameBytes.length + deflated.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(cdCount + 1, 8);
  end.writeUInt16LE(cdCount + 1, 10);
  end.writeUInt32LE(cdSize + central.length + nameBytes.length, 12);
  end.writeUInt32LE(newCdOffset, 16);
  return Buffer.concat([entries, local, nameBytes, deflated, cd, central, nameBytes, end]);
}

/** A raw deflate helper for tests that build zips by hand. */
export const deflate = (b: Buffer) => deflateRawSync(b, { level: zc.Z_BEST_COMPRESSION });

// ─── Formulas ───────────────────────────────────────────────────────────────

/**
 * The given roster rows as a workbook where some cells are formulas:
 * `formulas` maps "sheet!A2" to { formula, result } (result = the cached value
 * Excel stored, which may disagree with the formula).
 */
export async function workbookWithFormulas(
  rows: Record<string, Record<string, string>[]>,
  columns: Record<string, string[]>,
  formulas: Record<string, { formula: string; result?: string | number }>,
): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  for (const [name, r] of Object.entries(rows)) {
    if (!r.length) continue;
    const ws = wb.addWorksheet(name);
    const cols = columns[name]!;
    ws.addRow(cols);
    for (const row of r) ws.addRow(cols.map((c) => row[c] ?? ''));
  }
  for (const [ref, f] of Object.entries(formulas)) {
    const [sheet, cell] = ref.split('!') as [string, string];
    wb.getWorksheet(sheet)!.getCell(cell).value = { formula: f.formula, result: f.result } as ExcelJS.CellFormulaValue;
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}
