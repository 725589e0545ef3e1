import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { BATCH_GET_ID_MAX, CONTACT_PERMISSION_HINT, ContactsError, type ContactDirectory, type FoundId } from '../bot/lark-contacts.js';
import type { AuditRepo } from '../store/audit-repo.js';
import type { ContactLookupRepo, LookupCandidate } from '../store/contact-lookup-repo.js';
import type { Db } from '../store/db.js';
import type { RosterRepo } from '../store/roster-repo.js';
import { maskEmail, maskPhone, normalizeEmail, normalizePhone } from './contacts.js';

/**
 * Binding the roster's people to Lark accounts (issue 14). The roster knows 姓名 and
 * 手机号/邮箱; Lark's batch_get_id turns those into open_ids. A pass takes bounded
 * batches of the unbound — never tried first, then those not found a day ago or more —
 * binds the found (audited as person.bind) and marks the rest not_found, so the admin
 * can see who cannot be reached. The Lark side is behind ContactDirectory.
 */

/** People not found are tried again once this long after their last attempt. */
export const RETRY_NOT_FOUND_MS = 86_400_000;
export const BIND_ACTOR = 'system:contacts';

export interface ResolveDeps {
  db: Db;
  roster: RosterRepo;
  lookups: ContactLookupRepo;
  audit: AuditRepo;
  directory: ContactDirectory;
  clock: Clock;
  logger: Logger;
}

export interface PassLimits {
  /** At most this many people per pass (a scheduler tick). */
  maxPeople: number;
  /** Stop starting batches after this wall time (ms since epoch). */
  deadline?: number;
  /** Stop between batches when this says so (shutdown). */
  stopped?: () => boolean;
}

export interface PassResult {
  looked: number;
  bound: number;
  notFound: number;
  calls: number;
  /** Why the pass ended early: Lark refused (permission) or is unreachable. */
  error?: ContactsError;
}

/** One pass: resolves up to `limits.maxPeople` of the unbound, batch by batch. */
export async function resolvePass(deps: ResolveDeps, limits: PassLimits): Promise<PassResult> {
  const res: PassResult = { looked: 0, bound: 0, notFound: 0, calls: 0 };
  let lastLog = 0;
  while (res.looked < limits.maxPeople) {
    if (limits.stopped?.() || (limits.deadline !== undefined && Date.now() >= limits.deadline)) break;
    const now = deps.clock.now();
    const batch = deps.lookups.candidates(now - RETRY_NOT_FOUND_MS, Math.min(BATCH_GET_ID_MAX, limits.maxPeople - res.looked));
    if (!batch.length) break;
    let found: FoundId[];
    try {
      res.calls++;
      found = await deps.directory.batchGetIds(
        batch.flatMap((p) => (p.phone ? [p.phone] : [])),
        batch.flatMap((p) => (p.email ? [p.email] : [])),
      );
    } catch (e) {
      if (!(e instanceof ContactsError)) throw e;
      res.error = e;
      break;
    }
    const applied = applyBatch(deps, batch, found, deps.clock.now());
    res.looked += batch.length;
    res.bound += applied.bound;
    res.notFound += applied.notFound;
    // Progress for a big roster (60,000 people take minutes at Lark's 1000 calls/min): every ~10 s and at the end.
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      logProgress(deps, res);
    }
  }
  if (res.looked) logProgress(deps, res);
  return res;
}

function logProgress(deps: ResolveDeps, res: PassResult): void {
  const c = deps.lookups.counts();
  deps.logger.info({ bound_total: c.bound, people: c.total, looked: res.looked, bound: res.bound, not_found: res.notFound, calls: res.calls }, `已匹配 ${c.bound}/${c.total}`);
}

/** Binds the found and marks the rest, in one transaction per batch. */
function applyBatch(deps: ResolveDeps, batch: LookupCandidate[], found: FoundId[], at: number): { bound: number; notFound: number } {
  const byKey = new Map<string, string>();
  for (const f of found) {
    const key = f.kind === 'mobile' ? normalizePhone(f.key) : normalizeEmail(f.key);
    if (key) byKey.set(`${f.kind}:${key}`, f.openId);
  }
  let bound = 0;
  let notFound = 0;
  deps.db.transaction(() => {
    for (const p of batch) {
      const byPhone = p.phone ? byKey.get(`mobile:${p.phone}`) : undefined;
      const openId = byPhone ?? (p.email ? byKey.get(`email:${p.email}`) : undefined);
      const how = byPhone ? `手机号 ${maskPhone(p.phone)}` : `邮箱 ${maskEmail(p.email)}`;
      if (openId && bindPerson(deps, p, openId, at, BIND_ACTOR, `按${how}匹配飞书账号`)) bound++;
      else {
        deps.roster.markLookupFailed(p.id, at);
        notFound++;
      }
    }
  })();
  return { bound, notFound };
}

/**
 * Gives a person their open_id (only while still unbound) and audits it. False when the
 * open_id already belongs to someone else in the roster (two rows for one account: the
 * admin must merge them; logged) or the person was bound meanwhile.
 */
export function bindPerson(
  deps: Pick<ResolveDeps, 'roster' | 'audit' | 'logger'>,
  p: { id: number; name: string; phone: string | null; email: string | null },
  openId: string,
  at: number,
  actor: string,
  detail: string,
): boolean {
  const holder = deps.roster.personByOpenId(openId);
  if (holder && holder.id !== p.id) {
    deps.logger.warn({ person_id: p.id, holder_id: holder.id, phone: maskPhone(p.phone) }, 'lark account already bound to another roster person; not bound');
    return false;
  }
  if (!deps.roster.bind(p.id, openId, at)) return false;
  deps.audit.record({
    at,
    actor,
    action: 'person.bind',
    target: `person:${p.id}`,
    before: { name: p.name, open_id: null },
    after: { name: p.name, open_id: openId },
    detail,
  });
  deps.logger.info({ person_id: p.id, phone: maskPhone(p.phone), email: maskEmail(p.email) }, 'person bound to lark account');
  return true;
}

/**
 * The resolver run by the scheduler's tick: a bounded pass per tick; a permission
 * refusal is logged once (with what to grant) until a pass succeeds again.
 */
export class ContactsResolver {
  private permissionLogged = false;
  private stopping = false;

  constructor(
    private readonly deps: ResolveDeps,
    private readonly o: { maxPeoplePerTick?: number; tickBudgetMs?: number } = {},
  ) {}

  async tick(): Promise<PassResult> {
    const res = await resolvePass(this.deps, {
      maxPeople: this.o.maxPeoplePerTick ?? 20_000,
      // Leave the rest of the minute to the next tick's slot planning.
      deadline: Date.now() + (this.o.tickBudgetMs ?? 40_000),
      stopped: () => this.stopping,
    });
    if (res.error?.kind === 'permission') {
      if (!this.permissionLogged) this.deps.logger.error({ code: res.error.code, err: res.error.message }, CONTACT_PERMISSION_HINT);
      this.permissionLogged = true;
    } else if (res.error) {
      this.deps.logger.warn({ code: res.error.code, err: res.error.message }, '飞书通讯录暂时无法访问，下一分钟重试匹配');
    } else if (res.calls) {
      this.permissionLogged = false;
    }
    return res;
  }

  stop(): void {
    this.stopping = true;
  }
}
