import { maskPhone } from '../contacts.js';
import { canonicalName } from '../names.js';
import type { Person } from '../types.js';
import type { SheetRow } from './sheets.js';

/**
 * Who each 人员 row is (issue 14). A row names a person by 飞书open_id,
 * 手机号 and/or 邮箱; within the file each of these belongs to one row, and a
 * re-import finds the person already in the database by open_id, else phone,
 * else email. Everything is indexed: a province's 60,000 people are matched
 * in one pass.
 */
export interface IdentityRow {
  r: SheetRow;
  name: string;
  openId: string | null;
  phone: string | null;
  email: string | null;
}

export interface IdentityIssue {
  r: SheetRow;
  column: string;
  reason: string;
}

type Kind = 'openId' | 'phone' | 'email';
const KINDS: readonly Kind[] = ['openId', 'phone', 'email'];
const COLUMN: Record<Kind, string> = { openId: '飞书open_id', phone: '手机号', email: '邮箱' };
const shown = (k: Kind, v: string) => (k === 'phone' ? `（${maskPhone(v)}）` : k === 'email' ? `（${v}）` : '');

/** Where another row is, as seen from `from`: 第5行, or with its tab when it is elsewhere. */
function otherRow(from: SheetRow, to: SheetRow): string {
  const same = (from.file ?? '') === (to.file ?? '') && (from.sheetName ?? '') === (to.sheetName ?? '');
  return same ? `第${to.row}行` : `${to.file && to.file !== from.file ? `文件「${to.file}」` : ''}${to.sheetName ? `工作表「${to.sheetName}」` : ''}第${to.row}行`;
}

/**
 * For each row (same order): the id of the existing person it updates, null
 * for a new person, or undefined when the row is refused (its issue is in
 * `issues`).
 */
export function matchPeople(rows: readonly IdentityRow[], existing: readonly Person[]): { existingIds: (number | null | undefined)[]; issues: IdentityIssue[] } {
  const issues: IdentityIssue[] = [];
  const db: Record<Kind, Map<string, Person>> = { openId: new Map(), phone: new Map(), email: new Map() };
  for (const p of existing) for (const k of KINDS) if (p[k]) db[k].set(p[k]!, p);
  const seen: Record<Kind, Map<string, IdentityRow>> = { openId: new Map(), phone: new Map(), email: new Map() };
  const claimed = new Map<number, IdentityRow>();
  const existingIds: (number | null | undefined)[] = [];

  for (const row of rows) {
    let refused = false;
    // Within the file: each identifier once.
    for (const k of KINDS) {
      const v = row[k];
      if (!v) continue;
      const prev = seen[k].get(v);
      if (!prev) continue;
      refused = true;
      const where = otherRow(row.r, prev.r);
      issues.push({
        r: row.r,
        column: COLUMN[k],
        reason:
          prev.name === row.name
            ? `与${where}重复（同一人只能有一行，负责多个村用、分隔）`
            : `与${where}重复：同一个${COLUMN[k]}${shown(k, v)}填给了「${prev.name}」和「${row.name}」两人，一个${COLUMN[k]}只能属于一人，请核对后改正`,
      });
      break;
    }
    if (refused) {
      existingIds.push(undefined);
      continue;
    }
    for (const k of KINDS) if (row[k]) seen[k].set(row[k]!, row);

    // Against the database: all of the row's identifiers must point to one person, or to none.
    const hits: { k: Kind; p: Person }[] = [];
    for (const k of KINDS) {
      const p = row[k] ? db[k].get(row[k]!) : undefined;
      if (p && !hits.some((h) => h.p.id === p.id)) hits.push({ k, p });
    }
    if (hits.length > 1) {
      const [a, b] = hits as [{ k: Kind; p: Person }, { k: Kind; p: Person }];
      issues.push({
        r: row.r,
        column: COLUMN[b.k],
        reason: `本行的${COLUMN[a.k]}属于已导入的「${a.p.name}」，${COLUMN[b.k]}${shown(b.k, row[b.k]!)}却属于已导入的「${b.p.name}」：一人的手机号、邮箱不能与他人相同，请核对后改正`,
      });
      existingIds.push(undefined);
      continue;
    }
    const hit = hits[0];
    if (!hit) {
      existingIds.push(null);
      continue;
    }
    const p = hit.p;
    if (row.openId && p.openId && p.openId !== row.openId) {
      issues.push({
        r: row.r,
        column: COLUMN[hit.k],
        reason: `${COLUMN[hit.k]}${shown(hit.k, row[hit.k]!)}已属于已导入的「${p.name}」，而「${p.name}」已绑定另一个飞书账号（与本行的飞书open_id不同）：请核对后改正`,
      });
      existingIds.push(undefined);
      continue;
    }
    // Found by phone or email alone under another name: more likely a mistyped number than a rename.
    if (hit.k !== 'openId' && canonicalName(p.name) !== canonicalName(row.name)) {
      issues.push({
        r: row.r,
        column: COLUMN[hit.k],
        reason: `${COLUMN[hit.k]}${shown(hit.k, row[hit.k]!)}已属于已导入的「${p.name}」，与本行姓名「${row.name}」不同：请核对${COLUMN[hit.k]}；如确是同一人改名，请同时填写其飞书open_id`,
      });
      existingIds.push(undefined);
      continue;
    }
    const other = claimed.get(p.id);
    if (other) {
      issues.push({
        r: row.r,
        column: COLUMN[hit.k],
        reason: `与${otherRow(row.r, other.r)}（「${other.name}」）指向已导入的同一人「${p.name}」（${COLUMN[hit.k]}相同）：一个人只能有一行，请核对两行的飞书open_id、手机号、邮箱`,
      });
      existingIds.push(undefined);
      continue;
    }
    claimed.set(p.id, row);
    existingIds.push(p.id);
  }
  return { existingIds, issues };
}
