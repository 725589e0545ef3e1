import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../store/db.js';

/**
 * Sign-in to the trial console once real data is imported (issue 14): the
 * one-time links `npm run cli -- console link` prints, and the browser
 * sessions they open. Both live in the database (migration 009), so a link
 * made by the CLI works in the running service, after a restart and on any
 * instance sharing the database. Only SHA-256 hashes of the tokens are
 * stored; the tokens are 256 random bits, so a plain hash is enough.
 */
export const LINK_TTL_MS = 10 * 60_000;
export const SESSION_TTL_MS = 12 * 3600_000;
export const LOGIN_PATH = '/console/login';
/** Rows this long past their expiry are deleted when a new link is made. */
const KEEP_EXPIRED_MS = 7 * 24 * 3600_000;

/** base64url of 32 random bytes. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export type Redeemed =
  | { ok: true; sessionToken: string; sessionId: number; linkId: number; expiresAt: number }
  | { ok: false; reason: 'invalid' | 'expired' | 'used'; linkId?: number };

export function createConsoleAuth(db: Db) {
  const s = {
    insertLink: db.prepare(`INSERT INTO console_login_links (token_hash, created_at, expires_at, created_by) VALUES (?, ?, ?, ?)`),
    // The one atomic step: of two requests with the same link only one changes the row.
    consume: db.prepare(`UPDATE console_login_links SET used_at = ?, used_from = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`),
    link: db.prepare(`SELECT id, expires_at AS expiresAt, used_at AS usedAt FROM console_login_links WHERE token_hash = ?`),
    insertSession: db.prepare(`INSERT INTO console_sessions (token_hash, link_id, created_at, expires_at) VALUES (?, ?, ?, ?)`),
    session: db.prepare(`SELECT id FROM console_sessions WHERE token_hash = ? AND expires_at > ?`),
    purgeLinks: db.prepare(`DELETE FROM console_login_links WHERE expires_at < ?`),
    purgeSessions: db.prepare(`DELETE FROM console_sessions WHERE expires_at < ?`),
  };
  const redeem = db.transaction((token: string, now: number, from: string): Redeemed => {
    const hash = hashToken(token);
    if (s.consume.run(now, from, hash, now).changes !== 1) {
      const row = s.link.get(hash) as { id: number; expiresAt: number; usedAt: number | null } | undefined;
      if (!row) return { ok: false, reason: 'invalid' };
      return { ok: false, reason: row.usedAt !== null ? 'used' : 'expired', linkId: Number(row.id) };
    }
    const linkId = Number((s.link.get(hash) as { id: number }).id);
    const sessionToken = newToken();
    const expiresAt = now + SESSION_TTL_MS;
    const sessionId = Number(s.insertSession.run(hashToken(sessionToken), linkId, now, expiresAt).lastInsertRowid);
    return { ok: true, sessionToken, sessionId, linkId, expiresAt };
  });

  return {
    /** A new one-time link token (shown once, stored hashed). */
    issueLink(now: number, createdBy: string): { token: string; id: number; expiresAt: number } {
      s.purgeSessions.run(now - KEEP_EXPIRED_MS);
      s.purgeLinks.run(now - KEEP_EXPIRED_MS);
      const token = newToken();
      const expiresAt = now + LINK_TTL_MS;
      const id = Number(s.insertLink.run(hashToken(token), now, expiresAt, createdBy).lastInsertRowid);
      return { token, id, expiresAt };
    },
    /** Uses a link once: a session for the first valid use, the reason otherwise. */
    redeemLink(token: string, now: number, from: string): Redeemed {
      if (!TOKEN.test(token)) return { ok: false, reason: 'invalid' };
      return redeem.immediate(token, now, from);
    },
    /** The session id for a cookie value, when it is a live session. */
    session(token: string, now: number): number | undefined {
      if (!TOKEN.test(token)) return undefined;
      const row = s.session.get(hashToken(token), now) as { id: number } | undefined;
      return row ? Number(row.id) : undefined;
    },
  };
}

export type ConsoleAuth = ReturnType<typeof createConsoleAuth>;

/** Where the link opens: PUBLIC_BASE_URL when set, else this machine's loopback on PORT. */
export function loginUrl(config: { publicBaseUrl?: string; port: number }, token: string): string {
  const base = config.publicBaseUrl ?? `http://127.0.0.1:${config.port}`;
  return `${base}${LOGIN_PATH}?t=${encodeURIComponent(token)}`;
}
