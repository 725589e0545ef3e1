/**
 * A zip's central directory, read without trusting it: the import's guard
 * (xlsx-guard.ts) checks every entry against its limits, and the lean reader
 * (xlsx-read.ts) finds its parts by name. One walk over the same bytes for both.
 */
export interface ZipEntry {
  name: string;
  flags: number;
  method: number;
  /** Sizes as the directory declares them (the guard inflates to check the real ones). */
  csize: number;
  usize: number;
  /** Offset of the entry's local header. */
  local: number;
}

/** Why the bytes are not a readable zip; the callers turn it into their own message. */
export class ZipShapeError extends Error {
  constructor(
    readonly kind: 'no_directory' | 'truncated' | 'too_many',
    /** For too_many: how many entries the directory declares. */
    readonly count = 0,
  ) {
    super(kind);
  }
}

/** Entries in directory order; throws ZipShapeError on a missing or cut-off directory, or more than maxEntries. */
export function readZipDirectory(bytes: Buffer, maxEntries = Infinity): ZipEntry[] {
  // End of central directory: in the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65_557); i--) {
    if (bytes.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipShapeError('no_directory');
  const count = bytes.readUInt16LE(eocd + 10);
  if (count > maxEntries) throw new ZipShapeError('too_many', count);
  let p = bytes.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let k = 0; k < count; k++) {
    if (p + 46 > bytes.length || bytes.readUInt32LE(p) !== 0x02014b50) throw new ZipShapeError('truncated');
    const nlen = bytes.readUInt16LE(p + 28);
    entries.push({
      name: bytes.subarray(p + 46, p + 46 + nlen).toString('utf8'),
      flags: bytes.readUInt16LE(p + 8),
      method: bytes.readUInt16LE(p + 10),
      csize: bytes.readUInt32LE(p + 20),
      usize: bytes.readUInt32LE(p + 24),
      local: bytes.readUInt32LE(p + 42),
    });
    p += 46 + nlen + bytes.readUInt16LE(p + 30) + bytes.readUInt16LE(p + 32);
  }
  return entries;
}

/** Where an entry's data starts (after its local header), or null when the local header is not there. */
export function entryDataStart(bytes: Buffer, e: ZipEntry): number | null {
  if (e.local + 30 > bytes.length || bytes.readUInt32LE(e.local) !== 0x04034b50) return null;
  return e.local + 30 + bytes.readUInt16LE(e.local + 26) + bytes.readUInt16LE(e.local + 28);
}
