/** Shared vocabulary of the election plan (SPEC §2.2–2.3). */

export const ROLES = ['管理员', '领导', '干部', '工作组'] as const;
export type Role = (typeof ROLES)[number];

export const VILLAGE_TYPES = ['村', '社区'] as const;
export type VillageType = (typeof VILLAGE_TYPES)[number];

export const STAGE_STATUSES = ['未开始', '进行中', '已完成', '受阻'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

export type RegionKind = 'county' | 'township' | 'village';

export interface Region {
  id: number;
  kind: RegionKind;
  name: string;
  parentId: number | null;
}

export interface Village {
  id: number;
  name: string;
  type: VillageType;
  electionDay: string | null;
  townshipId: number;
  township: string;
  countyId: number;
  county: string;
}

export interface Person {
  id: number;
  name: string;
  /** Lark open_id; null while the person is known only by phone or email (未绑定, issue 14). */
  openId: string | null;
  /** 11 digits (src/workflow/contacts.ts), or null. */
  phone: string | null;
  /** Lower case, or null. */
  email: string | null;
  role: Role;
  /** County or township this person acts for; null = county-wide without a named county (admins). */
  scopeId: number | null;
}

/** A person who can be messaged: bound to a Lark account. */
export type BoundPerson = Person & { openId: string };
export const isBound = (p: Person): p is BoundPerson => p.openId !== null;

/** A calendar date in the campaign time zone, `YYYY-MM-DD`. */
export type IsoDate = string;
