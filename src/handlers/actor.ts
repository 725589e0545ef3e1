import type { Role } from '../workflow/types.js';

/** Who sent a message or pressed a button, as far as the bot knows. Roles and scopes come from the roster (issue 4). */
export interface Actor {
  openId: string;
  name?: string;
  /** Admins: ADMIN_OPEN_IDS, or role 管理员 in the roster. */
  isAdmin: boolean;
  /** Present when the person is in the roster. */
  personId?: number;
  role?: Role;
  /** The county or township the person acts for. */
  scopeId?: number | null;
}

export type ActorResolver = (openId: string) => Actor;

export function adminListResolver(adminOpenIds: readonly string[]): ActorResolver {
  const admins = new Set(adminOpenIds);
  return (openId) => ({ openId, isAdmin: admins.has(openId) });
}

/** Anything that can look a person up by open_id (the roster repository). */
export interface PersonLookup {
  personByOpenId(openId: string): { id: number; name: string; role: Role; scopeId: number | null } | undefined;
}

/**
 * The roster-backed resolver: name, role and scope from the roster; admins from
 * the environment stay admins whether or not they are in the roster.
 */
export function rosterResolver(roster: PersonLookup, adminOpenIds: readonly string[]): ActorResolver {
  const admins = new Set(adminOpenIds);
  return (openId) => {
    const p = roster.personByOpenId(openId);
    if (!p) return { openId, isAdmin: admins.has(openId) };
    return { openId, name: p.name, isAdmin: admins.has(openId) || p.role === '管理员', personId: p.id, role: p.role, scopeId: p.scopeId };
  };
}
