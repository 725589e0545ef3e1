import type { Logger } from '../logger.js';
import { ContactsError, SENDER_PERMISSION_HINT, type ContactDirectory } from '../bot/lark-contacts.js';
import type { AuditRepo } from '../store/audit-repo.js';
import type { RosterRepo } from '../store/roster-repo.js';
import { maskEmail, maskPhone, normalizeEmail, normalizePhone } from './contacts.js';
import { bindPerson } from './contacts-resolve.js';
import { REMOVED_FROM_ROSTER } from './permissions.js';
import type { Person } from './types.js';

/**
 * A sender the roster does not know by open_id (issue 14): read their mobile and email
 * from Lark (GET contact/v3/users/:open_id) and, when they are an unbound person's, bind
 * them on the spot. Otherwise the answer says plainly why and whom to ask.
 */

/** message null: no roster yet, nothing to say (the command decides, as without this step). */
export type SenderOutcome = { bound: true; personId: number } | { bound: false; message: string | null };

export interface SenderDeps {
  roster: RosterRepo;
  audit: AuditRepo;
  directory: ContactDirectory;
  /** People in the roster, bound or not. */
  rosterSize: () => number;
  now: () => number;
  logger: Logger;
}

/** A failed lookup is not repeated for this long (a stranger asking many questions costs one Lark call). */
const NEGATIVE_TTL_MS = 10 * 60_000;
const ADMIN_NAMES_TTL_MS = 60_000;
/** More 管理员 than this are not all named. */
const MAX_NAMED = 3;

export function createSenderBinder(deps: SenderDeps) {
  const negative = new Map<string, { at: number; outcome: SenderOutcome }>();
  let admins: { at: number; list: { name: string; countyId: number | null }[] } | undefined;
  let scopeHintLogged = false;

  const countyOf = (scopeId: number | null): number | null => {
    if (scopeId === null) return null;
    const r = deps.roster.region(scopeId);
    if (!r) return null;
    if (r.kind === 'county') return r.id;
    if (r.kind === 'township') return r.parentId;
    return r.parentId === null ? null : (deps.roster.region(r.parentId)?.parentId ?? null);
  };

  /** 管理员 of the roster (of one county when it is known), or 本县换届办. */
  const whomToAsk = (countyId: number | null): string => {
    const now = deps.now();
    if (!admins || now - admins.at > ADMIN_NAMES_TTL_MS) {
      admins = { at: now, list: deps.roster.people().filter((p) => p.role === '管理员').map((p) => ({ name: p.name, countyId: countyOf(p.scopeId) })) };
    }
    const local = countyId === null ? [] : admins.list.filter((a) => a.countyId === countyId);
    const list = local.length ? local : admins.list;
    if (!list.length) return '本县换届办';
    const names = [...new Set(list.map((a) => a.name))];
    return `本县换届办（管理员：${names.slice(0, MAX_NAMED).join('、')}${names.length > MAX_NAMED ? '等' : ''}）`;
  };

  /** Binds the sender when Lark's mobile/email is an unbound person's; `command` (refused if not) is audited as denied. */
  async function identify(openId: string, command?: string): Promise<SenderOutcome> {
    const cached = negative.get(openId);
    let outcome = cached && deps.now() - cached.at < NEGATIVE_TTL_MS ? cached.outcome : undefined;
    if (!outcome) {
      outcome = await lookup(openId);
      if (!outcome.bound) {
        if (negative.size > 10_000) negative.clear();
        negative.set(openId, { at: deps.now(), outcome });
      }
    }
    if (!outcome.bound && outcome.message && command) deps.audit.record({ at: deps.now(), actor: openId, action: `denied:${command}`, target: null, detail: outcome.message });
    return outcome;
  }

  async function lookup(openId: string): Promise<SenderOutcome> {
    const notInRoster = (what: string, countyId: number | null = null): SenderOutcome => ({
      bound: false,
      message: `您不在本次换届工作的人员名单中${what}，暂时不能使用此功能。请联系${whomToAsk(countyId)}，把您的姓名和飞书登录手机号加入花名册；加入后一分钟内即可使用。`,
    });
    const notMatched: SenderOutcome = {
      bound: false,
      message: `您的飞书账号还没有与换届工作人员名单匹配上，暂时不能使用此功能。如果您在名单中，请联系${whomToAsk(null)}，核对花名册里您的手机号或邮箱是否与飞书登录手机号/邮箱一致。`,
    };
    if (deps.rosterSize() === 0) return { bound: false, message: null };
    // Dropped by a re-import (issue 17): told so, not asked to join.
    if (deps.roster.wasRemoved(openId)) return { bound: false, message: REMOVED_FROM_ROSTER };
    // Nobody waits to be bound: no Lark call needed to know this sender is not in the roster.
    if (deps.roster.unboundCount() === 0) return notInRoster('');
    let contact: { mobile: string | null; email: string | null };
    try {
      contact = await deps.directory.userContact(openId);
    } catch (e) {
      if (!(e instanceof ContactsError)) throw e;
      if (e.kind === 'permission' && !scopeHintLogged) {
        scopeHintLogged = true;
        deps.logger.error({ code: e.code, err: e.message }, SENDER_PERMISSION_HINT);
      } else deps.logger.warn({ code: e.code, err: e.message }, 'could not read the sender from lark contacts');
      return notMatched;
    }
    const phone = contact.mobile ? normalizePhone(contact.mobile) : null;
    const email = contact.email ? normalizeEmail(contact.email) : null;
    if (!phone && !email) {
      if (!scopeHintLogged) {
        scopeHintLogged = true;
        deps.logger.error({}, SENDER_PERMISSION_HINT);
      }
      return notMatched;
    }
    const candidates = [phone && deps.roster.personByPhone(phone), email && deps.roster.personByEmail(email)].filter((p): p is Person => !!p);
    const unbound = candidates.find((p) => p.openId === null);
    if (unbound) {
      const how = phone && unbound.phone === phone ? `手机号 ${maskPhone(phone)}` : `邮箱 ${maskEmail(email)}`;
      if (bindPerson(deps, unbound, openId, deps.now(), openId, `首次发消息，按${how}匹配飞书账号`)) {
        negative.delete(openId);
        return { bound: true, personId: unbound.id };
      }
    }
    const taken = candidates.find((p) => p.openId !== null && p.openId !== openId);
    if (taken) {
      return {
        bound: false,
        message: `花名册中与您手机号/邮箱相同的「${taken.name}」已绑定了另一个飞书账号，暂时不能使用此功能。请联系${whomToAsk(countyOf(taken.scopeId))}核对花名册。`,
      };
    }
    return notInRoster(phone ? `（花名册中没有手机号 ${maskPhone(phone)}）` : `（花名册中没有邮箱 ${maskEmail(email)}）`);
  }

  return { identify };
}

export type SenderBinder = ReturnType<typeof createSenderBinder>;
