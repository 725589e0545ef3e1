import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  claimsDemo,
  DASHBOARD_LINK_TTL_MS,
  dashboardLink,
  signDashboardToken,
  verifyDashboardToken,
  type DashboardClaims,
} from '../../src/web/dashboard-token.js';
import { alterPayload } from './fixtures.js';

const SECRET = 'token-test-secret-0001';
const NOW = Date.parse('2026-11-20T02:00:00Z');
const claims: DashboardClaims = { openId: 'ou_leader_t0', scopeId: 7, expiresAt: NOW + 3600_000 };

/** A token with any payload, correctly signed (to reach the checks after the signature). */
function signedRaw(payload: unknown, secret = SECRET): string {
  const body = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)).toString('base64url');
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

describe('dashboard tokens', () => {
  it('verify what was signed: leader, scope, expiry', () => {
    const t = signDashboardToken(claims, SECRET);
    expect(t).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyDashboardToken(t, SECRET, NOW)).toEqual({ ok: true, claims });
    const all = signDashboardToken({ ...claims, scopeId: null }, SECRET);
    expect(verifyDashboardToken(all, SECRET, NOW)).toEqual({ ok: true, claims: { ...claims, scopeId: null } });
  });

  it('expire at the given moment', () => {
    const t = signDashboardToken(claims, SECRET);
    expect(verifyDashboardToken(t, SECRET, claims.expiresAt - 1).ok).toBe(true);
    expect(verifyDashboardToken(t, SECRET, claims.expiresAt)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyDashboardToken(t, SECRET, claims.expiresAt + 86_400_000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuse an altered payload (another scope, another leader, a later expiry)', () => {
    const t = signDashboardToken(claims, SECRET);
    expect(verifyDashboardToken(alterPayload(t), SECRET, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    const sig = t.split('.')[1]!;
    for (const change of [{ o: 'ou_other' }, { e: NOW + 365 * 86_400_000 }, { s: null }]) {
      const body = Buffer.from(JSON.stringify({ v: 1, o: claims.openId, s: claims.scopeId, e: claims.expiresAt, ...change })).toString('base64url');
      expect(verifyDashboardToken(`${body}.${sig}`, SECRET, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    }
  });

  it('refuse an altered signature, even one that decodes to the same bytes', () => {
    const t = signDashboardToken(claims, SECRET);
    const [body, sig] = t.split('.') as [string, string];
    const last = sig.at(-1)!;
    // The last base64url character of a 32-byte MAC carries 2 unused bits: a neighbour may decode to the same MAC.
    const sibling = String.fromCharCode(last.charCodeAt(0) ^ 1);
    expect(verifyDashboardToken(`${body}.${sig.slice(0, -1)}${sibling}`, SECRET, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    expect(verifyDashboardToken(`${body}.${flipped}`, SECRET, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyDashboardToken(`${body}.${sig.slice(0, -2)}`, SECRET, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuse a token signed with another secret', () => {
    const t = signDashboardToken(claims, 'some-other-secret');
    expect(verifyDashboardToken(t, SECRET, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('check the scope when asked', () => {
    const t = signDashboardToken(claims, SECRET);
    expect(verifyDashboardToken(t, SECRET, NOW, { expectScopeId: 7 }).ok).toBe(true);
    expect(verifyDashboardToken(t, SECRET, NOW, { expectScopeId: 8 })).toEqual({ ok: false, reason: 'out_of_scope' });
    expect(verifyDashboardToken(t, SECRET, NOW, { expectScopeId: null })).toEqual({ ok: false, reason: 'out_of_scope' });
  });

  it('name what is wrong with malformed, missing or unconfigured tokens', () => {
    expect(verifyDashboardToken(undefined, SECRET, NOW)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyDashboardToken('', SECRET, NOW)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyDashboardToken(signDashboardToken(claims, SECRET), undefined, NOW)).toEqual({ ok: false, reason: 'not_configured' });
    for (const bad of ['abc', 'a.b.c', '.x', 'x.', 'a b.c', `${'a'.repeat(2000)}.b`]) {
      expect(verifyDashboardToken(bad, SECRET, NOW)).toEqual({ ok: false, reason: 'malformed' });
    }
    // Correctly signed, but not a payload of ours.
    for (const p of ['not json', { v: 2, o: 'ou_x', s: 1, e: NOW + 1000 }, { v: 1, o: '', s: 1, e: NOW + 1000 }, { v: 1, o: 'ou_x', s: 'x', e: NOW + 1000 }, { v: 1, o: 'ou_x', s: -1, e: NOW + 1000 }, { v: 1, o: 'ou_x', s: 1 }, null]) {
      expect(verifyDashboardToken(signedRaw(p), SECRET, NOW)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('mark demo links, which only the demo key signs', () => {
    const demo = signDashboardToken({ ...claims, demo: true }, 'demo-key');
    expect(claimsDemo(demo)).toBe(true);
    expect(claimsDemo(signDashboardToken(claims, SECRET))).toBe(false);
    expect(verifyDashboardToken(demo, 'demo-key', NOW)).toEqual({ ok: true, claims: { ...claims, demo: true } });
    expect(verifyDashboardToken(demo, SECRET, NOW).ok).toBe(false);
  });
});

describe('dashboardLink', () => {
  const leader = { openId: 'ou_leader_t0', scopeId: 7 };

  it('is undefined without DASHBOARD_SECRET or PUBLIC_BASE_URL', () => {
    expect(dashboardLink({}, leader, NOW)).toBeUndefined();
    expect(dashboardLink({ dashboardSecret: SECRET }, leader, NOW)).toBeUndefined();
    expect(dashboardLink({ publicBaseUrl: 'https://hj.example.cn' }, leader, NOW)).toBeUndefined();
  });

  it('links to /dashboard under the public base URL, valid for 7 days, for the leader and scope', () => {
    const url = dashboardLink({ dashboardSecret: SECRET, publicBaseUrl: 'https://hj.example.cn/' }, leader, NOW)!;
    expect(url).toMatch(/^https:\/\/hj\.example\.cn\/dashboard\?t=[A-Za-z0-9_.-]+$/);
    const token = new URL(url).searchParams.get('t')!;
    expect(verifyDashboardToken(token, SECRET, NOW)).toEqual({ ok: true, claims: { openId: leader.openId, scopeId: 7, expiresAt: NOW + DASHBOARD_LINK_TTL_MS } });
    expect(verifyDashboardToken(token, SECRET, NOW + DASHBOARD_LINK_TTL_MS).ok).toBe(false);
  });
});
