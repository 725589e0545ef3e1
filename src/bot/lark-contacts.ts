import type * as lark from '@larksuiteoapi/node-sdk';
import type { Logger } from '../logger.js';
import { retryAfterMs } from './lark-transport.js';
import { RateLimiter } from './rate-limiter.js';

/**
 * Lark's contact API, for people a roster knows only by phone or email (issue 14):
 * POST /open-apis/contact/v3/users/batch_get_id (user_id_type=open_id) turns up to 50
 * mobiles and 50 emails into open_ids; GET /open-apis/contact/v3/users/:open_id reads a
 * sender's mobile and email. Paced below batch_get_id's limit (1000/min, 50/s per app);
 * a 429 / 99991400 waits x-ogw-ratelimit-reset and retries, a 5xx backs off.
 */

/** batch_get_id takes at most this many mobiles, and as many emails, per call (looked up independently). */
export const BATCH_GET_ID_MAX = 50;

export const CONTACT_PERMISSION_HINT =
  '飞书应用缺少通讯录权限「通过手机号或邮箱获取用户 ID」(contact:user.id:readonly)，或通讯录权限范围不含这些人员：' +
  '请在飞书开发者后台「权限管理」开通该权限、在「数据权限/通讯录权限范围」选择相应部门，并发布新版本。' +
  '在此之前，花名册中只有手机号/邮箱的人员无法绑定飞书账号，收不到提醒。';

export const SENDER_PERMISSION_HINT =
  '飞书应用缺少读取用户手机号/邮箱的权限（contact:user.phone:readonly、contact:user.email:readonly）：' +
  '首次发消息的人员无法按手机号/邮箱自动绑定，只能等定时匹配（contact:user.id:readonly）完成。';

/** Codes that mean the app lacks a scope or may not see the user: retrying will not help until an admin acts. */
const PERMISSION_CODES = new Set([99991672, 99991679, 41050]);
const RATE_LIMIT_CODES = new Set([99991400, 230020]);

export interface FoundId {
  /** The phone (11 digits as sent) or email (lower case) that was looked up. */
  key: string;
  kind: 'mobile' | 'email';
  openId: string;
}

export interface SenderContact {
  mobile: string | null;
  email: string | null;
}

export class ContactsError extends Error {
  constructor(
    readonly kind: 'permission' | 'unavailable',
    message: string,
    readonly code: number | null = null,
  ) {
    super(message);
  }
}

export interface ContactDirectory {
  /** open_ids for the mobiles and emails Lark knows and lets the app see; the rest are absent. */
  batchGetIds(mobiles: readonly string[], emails: readonly string[]): Promise<FoundId[]>;
  /** A user's mobile and email (null when the app may not read them). */
  userContact(openId: string): Promise<SenderContact>;
}

export interface LarkContactsOptions {
  /** batch_get_id calls per second and per minute (Lark: 50/s, 1000/min). */
  perSecond?: number;
  perMinute?: number;
  /** Attempts per call on 429/5xx/network errors before giving up for this round. */
  maxAttempts?: number;
  backoffBaseMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface LarkAnswer {
  code?: number;
  msg?: string;
  data?: unknown;
}

type Attempt = { ok: true; body: LarkAnswer } | { ok: false; kind: 'rate' | 'retry' | 'permission' | 'fatal'; code: number | null; waitMs: number; error: string };

export function larkContacts(client: lark.Client, logger: Logger, o: LarkContactsOptions = {}): ContactDirectory {
  const limiter = new RateLimiter({ perAppPerSecond: o.perSecond ?? 50, perAppPerMinute: o.perMinute ?? 1000, perKeyPerSecond: Infinity });
  const sleep = o.sleep ?? defaultSleep;
  const maxAttempts = o.maxAttempts ?? 6;
  const base = o.backoffBaseMs ?? 500;

  /** One call, paced by the limiter, retried on rate limits and server errors. */
  async function call(what: string, send: () => Promise<LarkAnswer>, paced: boolean): Promise<LarkAnswer> {
    for (let attempt = 1; ; attempt++) {
      let done: ((at: number) => void) | null = null;
      if (paced) {
        for (;;) {
          done = limiter.tryTake('contacts', Date.now());
          if (done) break;
          const w = limiter.appWaitMs(Date.now());
          await sleep(Number.isFinite(w) ? Math.max(1, w) : 5);
        }
      }
      let r: Attempt;
      try {
        r = classifyAnswer(await send());
      } catch (e) {
        r = classifyError(e);
      } finally {
        done?.(Date.now());
      }
      if (r.ok) return r.body;
      if (r.kind === 'permission') throw new ContactsError('permission', `${what}: ${r.error}`, r.code);
      if (r.kind === 'fatal' || attempt >= maxAttempts) throw new ContactsError('unavailable', `${what}: ${r.error}`, r.code);
      const wait = r.kind === 'rate' ? r.waitMs : base * 2 ** (attempt - 1);
      logger.warn({ what, attempt, code: r.code, wait_ms: wait, err: r.error }, r.kind === 'rate' ? 'lark contacts: rate limited, waiting' : 'lark contacts: retrying');
      await sleep(wait);
    }
  }

  return {
    async batchGetIds(mobiles, emails) {
      if (mobiles.length > BATCH_GET_ID_MAX || emails.length > BATCH_GET_ID_MAX) throw new Error(`batch_get_id takes at most ${BATCH_GET_ID_MAX} mobiles and ${BATCH_GET_ID_MAX} emails`);
      if (!mobiles.length && !emails.length) return [];
      const body = await call(
        'batch_get_id',
        () =>
          client.contact.v3.user.batchGetId({
            params: { user_id_type: 'open_id' },
            data: { ...(mobiles.length ? { mobiles: [...mobiles] } : {}), ...(emails.length ? { emails: [...emails] } : {}), include_resigned: false },
          }) as Promise<LarkAnswer>,
        true,
      );
      const list = ((body.data as { user_list?: { user_id?: string; mobile?: string; email?: string }[] } | undefined)?.user_list ?? []);
      const out: FoundId[] = [];
      for (const u of list) {
        // Not found, or outside the app's visibility: Lark answers the entry without user_id.
        if (!u.user_id) continue;
        if (u.mobile) out.push({ key: u.mobile, kind: 'mobile', openId: u.user_id });
        else if (u.email) out.push({ key: u.email.toLowerCase(), kind: 'email', openId: u.user_id });
      }
      return out;
    },
    async userContact(openId) {
      const body = await call(
        'users.get',
        () => client.contact.v3.user.get({ path: { user_id: openId }, params: { user_id_type: 'open_id' } }) as Promise<LarkAnswer>,
        false,
      );
      const u = (body.data as { user?: { mobile?: string; email?: string } } | undefined)?.user;
      return { mobile: u?.mobile || null, email: u?.email || null };
    },
  };
}

function classifyAnswer(body: LarkAnswer): Attempt {
  const code = body?.code ?? 0;
  if (code === 0) return { ok: true, body };
  return byCode(code, body.msg ?? '', 200, undefined);
}

function byCode(code: number, msg: string, status: number | undefined, reset: string | undefined): Attempt {
  const error = `HTTP ${status ?? '-'} code ${code}: ${msg}`.slice(0, 300);
  if (RATE_LIMIT_CODES.has(code) || status === 429) return { ok: false, kind: 'rate', code, waitMs: retryAfterMs(reset), error };
  if (PERMISSION_CODES.has(code) || status === 403) return { ok: false, kind: 'permission', code, waitMs: 0, error };
  if ((status !== undefined && status >= 500) || code === 99991663 || code === 99991661) return { ok: false, kind: 'retry', code, waitMs: 0, error };
  return { ok: false, kind: 'fatal', code, waitMs: 0, error };
}

function classifyError(e: unknown): Attempt {
  const err = e as { message?: string; code?: string; response?: { status?: number; headers?: Record<string, string | undefined>; data?: unknown } };
  const resp = err.response;
  if (!resp) return { ok: false, kind: 'retry', code: null, waitMs: 0, error: `network: ${err.code ?? ''} ${err.message ?? String(e)}`.slice(0, 300) };
  const data = (typeof resp.data === 'object' && resp.data ? resp.data : {}) as LarkAnswer;
  const reset = resp.headers?.['x-ogw-ratelimit-reset'];
  if (typeof data.code === 'number') return byCode(data.code, data.msg ?? '', resp.status, reset);
  if (resp.status === 429) return { ok: false, kind: 'rate', code: null, waitMs: retryAfterMs(reset), error: 'HTTP 429' };
  if (resp.status !== undefined && resp.status >= 500) return { ok: false, kind: 'retry', code: null, waitMs: 0, error: `HTTP ${resp.status}` };
  if (resp.status === 403) return { ok: false, kind: 'permission', code: null, waitMs: 0, error: 'HTTP 403' };
  return { ok: false, kind: 'fatal', code: null, waitMs: 0, error: `HTTP ${resp.status ?? '?'}` };
}
