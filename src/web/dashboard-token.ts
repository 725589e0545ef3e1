import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../workflow/permissions.js';

/**
 * Signed links to the leader dashboard (docs/web.md). A token is
 * `base64url(JSON payload) "." base64url(HMAC-SHA256(secret, payload part))`;
 * the payload names the leader (open_id), the scope the link was made for
 * (region id, null for an admin's whole-province view) and the expiry. The
 * signature is checked (constant time) before the payload is even parsed.
 */

export interface DashboardClaims {
  /** The leader's open_id. */
  openId: string;
  /** The leader's scope (county or township region id); null = every county (admins). */
  scopeId: number | null;
  /** Expiry, ms since the epoch. */
  expiresAt: number;
  /** A link to the console's demo database (signed with the console's own per-process key). */
  demo?: boolean;
}

export type TokenFailure = 'missing' | 'malformed' | 'bad_signature' | 'expired' | 'out_of_scope' | 'not_configured';

export type TokenCheck = { ok: true; claims: DashboardClaims } | { ok: false; reason: TokenFailure };

/** What a person who opens a refused link reads (the 403 page and the API's `message`). */
export const TOKEN_FAILURE_MESSAGES: Record<TokenFailure, string> = {
  missing: '链接缺少访问凭证。请从日报卡片的「查看详情」按钮打开看板。',
  malformed: '链接无效（格式不正确）。请从最新的日报卡片重新打开。',
  bad_signature: '链接无效（签名校验未通过，链接可能被改动过）。请从最新的日报卡片重新打开。',
  expired: '链接已过期。请从最新的日报卡片重新打开看板。',
  out_of_scope: '该链接所指的范围与您当前的职责范围不符，无权查看。',
  not_configured: '服务器未设置 DASHBOARD_SECRET，看板链接不可用。',
};

/** How long a link from a digest stays valid. */
export const DASHBOARD_LINK_TTL_MS = 7 * 24 * 3600_000;

const VERSION = 1;
const MAX_TOKEN_LENGTH = 1024;
const B64URL = /^[A-Za-z0-9_-]+$/;

interface Payload {
  v: number;
  o: string;
  s: number | null;
  e: number;
  d?: 1;
}

function mac(secret: string | Buffer, data: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

export function signDashboardToken(claims: DashboardClaims, secret: string | Buffer): string {
  if (!secret || secret.length === 0) throw new Error('dashboard secret is empty');
  const payload: Payload = { v: VERSION, o: claims.openId, s: claims.scopeId, e: Math.floor(claims.expiresAt), ...(claims.demo ? { d: 1 as const } : {}) };
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

/** Splits and decodes a token without trusting it (used only to pick which key checks it). */
function split(token: string): { body: string; sig: string } | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 2) return undefined;
  const [body, sig] = parts as [string, string];
  if (!B64URL.test(body) || !B64URL.test(sig)) return undefined;
  return { body, sig };
}

function decode(body: string): Payload | undefined {
  try {
    const p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<Payload> | null;
    if (!p || typeof p !== 'object' || p.v !== VERSION) return undefined;
    if (typeof p.o !== 'string' || p.o.length === 0 || p.o.length > 128) return undefined;
    if (p.s !== null && !(typeof p.s === 'number' && Number.isSafeInteger(p.s) && p.s > 0)) return undefined;
    if (typeof p.e !== 'number' || !Number.isFinite(p.e)) return undefined;
    if (p.d !== undefined && p.d !== 1) return undefined;
    return p as Payload;
  } catch {
    return undefined;
  }
}

/**
 * Checks a token: format, signature (constant time), payload, expiry, and —
 * when `expectScopeId` is given — that the link is for that scope.
 */
export function verifyDashboardToken(
  token: string | undefined | null,
  secret: string | Buffer | undefined,
  now: number,
  opts: { expectScopeId?: number | null } = {},
): TokenCheck {
  if (!secret || secret.length === 0) return { ok: false, reason: 'not_configured' };
  if (!token) return { ok: false, reason: 'missing' };
  const parts = split(token);
  if (!parts) return { ok: false, reason: 'malformed' };
  // Compared as text: base64url has several spellings of the same bytes, and only the canonical one is accepted.
  const expected = Buffer.from(mac(secret, parts.body).toString('base64url'));
  const given = Buffer.from(parts.sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  const p = decode(parts.body);
  if (!p) return { ok: false, reason: 'malformed' };
  if (now >= p.e) return { ok: false, reason: 'expired' };
  if (opts.expectScopeId !== undefined && opts.expectScopeId !== p.s) return { ok: false, reason: 'out_of_scope' };
  return { ok: true, claims: { openId: p.o, scopeId: p.s, expiresAt: p.e, ...(p.d ? { demo: true } : {}) } };
}

/**
 * Whether a token claims to be for the demo database. Only decides which key
 * checks it: a demo token is verified with the demo key and a real one with
 * DASHBOARD_SECRET, and each key accepts only its own kind.
 */
export function claimsDemo(token: string): boolean {
  const parts = split(token);
  return !!parts && decode(parts.body)?.d === 1;
}

/** What links are made with: the Config (DASHBOARD_SECRET, PUBLIC_BASE_URL) or the same fields. */
export interface LinkConfig {
  dashboardSecret?: string;
  /** e.g. https://huanjie.example.gov.cn — where Lark's in-app browser reaches this service. */
  publicBaseUrl?: string;
}

/**
 * The 查看详情 link of a leader's digest: `${PUBLIC_BASE_URL}/dashboard?t=…`,
 * valid for 7 days. Undefined when DASHBOARD_SECRET or PUBLIC_BASE_URL is
 * unset (the digest card then has no button).
 */
export function dashboardLink(
  config: LinkConfig,
  leader: Pick<Principal, 'openId' | 'scopeId'>,
  now: number,
  opts: { ttlMs?: number } = {},
): string | undefined {
  const base = config.publicBaseUrl;
  if (!config.dashboardSecret || !base) return undefined;
  const token = signDashboardToken({ openId: leader.openId, scopeId: leader.scopeId, expiresAt: now + (opts.ttlMs ?? DASHBOARD_LINK_TTL_MS) }, config.dashboardSecret);
  return dashboardPath(base, token);
}

export function dashboardPath(base: string, token: string): string {
  return `${base.replace(/\/+$/, '')}/dashboard?t=${encodeURIComponent(token)}`;
}
