import { UserError } from '../errors.js';
import type { Actor } from '../handlers/actor.js';
import type { AuditRepo } from '../store/audit-repo.js';
import type { RosterRepo } from '../store/roster-repo.js';
import type { Role, Village } from './types.js';

/**
 * Who may do what (docs/workflow.md, 权限):
 * - 管理员 (roster role or ADMIN_OPEN_IDS): everything, everywhere; imports.
 * - 领导: reads and writes every village of their scope (county or township).
 * - 干部 / 工作组: write for the villages assigned to them; read their scope.
 * - not in the roster: nothing but help and policy questions.
 */
export interface Principal {
  openId: string;
  name: string;
  isAdmin: boolean;
  personId: number | null;
  role: Role | null;
  scopeId: number | null;
  scopeKind: 'county' | 'township' | null;
  villageIds: ReadonlySet<number>;
  /** Dropped from the roster by a re-import (issue 17): no rights, and told so. Absent = false. */
  removed?: boolean;
}

export function loadPrincipal(roster: RosterRepo, actor: Actor): Principal {
  const person = roster.personByOpenId(actor.openId);
  const scope = person?.scopeId != null ? roster.region(person.scopeId) : undefined;
  return {
    openId: actor.openId,
    name: person?.name ?? actor.name ?? actor.openId,
    isAdmin: actor.isAdmin || person?.role === '管理员',
    personId: person?.id ?? null,
    role: person?.role ?? null,
    scopeId: scope?.id ?? null,
    scopeKind: scope?.kind === 'county' || scope?.kind === 'township' ? scope.kind : null,
    villageIds: new Set(person ? roster.assignedVillageIds(person.id) : []),
    removed: !person && roster.wasRemoved(actor.openId),
  };
}

export function inScope(p: Principal, v: Pick<Village, 'townshipId' | 'countyId'>): boolean {
  if (p.scopeId == null) return false;
  return p.scopeKind === 'county' ? v.countyId === p.scopeId : v.townshipId === p.scopeId;
}

export function isKnown(p: Principal): boolean {
  return p.isAdmin || p.personId !== null;
}

export function isLeaderOf(p: Principal, v: Pick<Village, 'townshipId' | 'countyId'>): boolean {
  return p.role === '领导' && inScope(p, v);
}

export function canWriteVillage(p: Principal, v: Village): boolean {
  return p.isAdmin || isLeaderOf(p, v) || p.villageIds.has(v.id);
}

export function canViewVillage(p: Principal, v: Village): boolean {
  return canWriteVillage(p, v) || (p.personId !== null && inScope(p, v));
}

/** Township-level regions (talks with the 乡镇党委书记): leaders of that township or its county. */
export function canWriteTownship(p: Principal, t: { id: number; countyId: number }): boolean {
  if (p.isAdmin) return true;
  if (p.role !== '领导' || p.scopeId == null) return false;
  return p.scopeKind === 'county' ? t.countyId === p.scopeId : t.id === p.scopeId;
}

/**
 * Refuses: writes the refusal to the audit log (action `denied:<command>`) and
 * throws the Chinese message. Call outside any transaction, so the audit row stays.
 */
export function deny(audit: AuditRepo, p: Principal | { openId: string }, command: string, target: string | null, message: string, now: number): never {
  audit.record({ at: now, actor: p.openId, action: `denied:${command}`, target, detail: message });
  throw new UserError(message, 'forbidden');
}

export const NOT_IN_ROSTER = '您不在本次换届工作的人员名单中，不能使用此功能。如需开通，请联系换届办把您加入花名册。';

/** For someone a re-import dropped: their old buttons and forms answer this. */
export const REMOVED_FROM_ROSTER = '您已不在花名册中（换届办最新导入的人员名单没有您），不能再登记或操作。如有误，请联系换届办把您重新加入花名册。';

/** The refusal for someone not known: dropped from the roster, or never in it. */
export function notInRosterMessage(p: Pick<Principal, 'removed'>): string {
  return p.removed ? REMOVED_FROM_ROSTER : NOT_IN_ROSTER;
}
