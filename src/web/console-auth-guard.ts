import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Runtime } from '../runtime.js';
import type { Statement } from '../store/sql.js';
import { createConsoleAuth, LINK_TTL_MS, LOGIN_PATH, SESSION_TTL_MS, type ConsoleAuth } from './console-auth.js';
import { consoleRefusedPage, consoleSignedInPage } from './pages.js';

/**
 * The lock on /console (issue 14). While only the demo database is in use the
 * console stays open, as before; once real data exists (anyone in the real
 * roster, the same test that switches the console from the demo to the real
 * database) every /console page and API needs a session cookie from a
 * one-time link (`npm run cli -- console link`).
 *
 * The check is one onRequest hook on the root app, for every route whose path
 * is /console or under /console/, wherever it is registered: a new console
 * route is covered without doing anything.
 */
export const COOKIE_NAME = 'hj_console';
const LINK_MINUTES = LINK_TTL_MS / 60_000;

export const LOCKED_MESSAGE = `试用页面已锁定：已导入正式数据，为保护正式数据，需要登录后才能查看和操作。请在服务器上运行 npm run cli -- console link 获取登录链接（${LINK_MINUTES} 分钟内有效，只能使用一次），在浏览器中打开即可。`;

const REFUSED_LINK: Record<'invalid' | 'expired' | 'used', { title: string; message: string }> = {
  invalid: { title: '登录链接无效', message: '该登录链接无效（可能复制不完整）。请在服务器上重新运行 npm run cli -- console link，复制完整的链接后在浏览器中打开。' },
  expired: { title: '登录链接已过期', message: `该登录链接已过期（有效期 ${LINK_MINUTES} 分钟）。请在服务器上重新运行 npm run cli -- console link 获取新的链接。` },
  used: { title: '登录链接已使用过', message: '该登录链接已经使用过，每个链接只能使用一次。请在服务器上重新运行 npm run cli -- console link 获取新的链接。' },
};

export function isConsolePath(path: string): boolean {
  return path === '/console' || path.startsWith('/console/');
}

export class ConsoleGate {
  readonly auth: ConsoleAuth;
  /** Sticky: real data does not go away, and a lock that opened again by itself would be worse than none. */
  private real = false;
  private readonly anyone: Statement;
  /** Requests that carried a live session, checked once per request. */
  private readonly seen = new WeakMap<FastifyRequest, boolean>();

  constructor(private readonly rt: Runtime) {
    this.auth = createConsoleAuth(rt.db);
    this.anyone = rt.db.prepare('SELECT 1 AS one FROM wf_people LIMIT 1');
  }

  /** Real data exists: the console shows it, to signed-in browsers only. */
  locked(): boolean {
    if (!this.real) this.real = this.anyone.get() !== undefined;
    return this.real;
  }

  /** Whether this request carries a live session cookie. */
  signedIn(req: FastifyRequest): boolean {
    let ok = this.seen.get(req);
    if (ok === undefined) {
      const now = this.rt.clock.now();
      ok = cookieValues(req.headers.cookie, COOKIE_NAME).some((v) => this.auth.session(v, now) !== undefined);
      this.seen.set(req, ok);
    }
    return ok;
  }

  /** Whether this request may use the console now: always on demo data, with a session on real data. */
  admits(req: FastifyRequest): boolean {
    return !this.locked() || this.signedIn(req);
  }

  /** The 401 for a request without a session: a page for pages, JSON for the API. */
  refuse(req: FastifyRequest, reply: FastifyReply): FastifyReply {
    reply.code(401);
    const path = req.routeOptions.url ?? req.url;
    if (path.startsWith('/console/api/') || req.method !== 'GET') return reply.send({ error: 'console_locked', message: LOCKED_MESSAGE });
    return reply.type('text/html; charset=utf-8').send(consoleRefusedPage({ title: '试用页面已锁定', message: LOCKED_MESSAGE }));
  }

  /** GET /console/login?t=…: uses the link once, sets the session cookie, moves on to /console. */
  registerLogin(app: FastifyInstance): void {
    const audit = this.rt.repos.audit;
    app.get(LOGIN_PATH, async (req, reply) => {
      const q = req.query as { t?: unknown };
      const token = typeof q.t === 'string' ? q.t : '';
      const now = this.rt.clock.now();
      const from = `ip ${req.ip}`;
      const r = this.auth.redeemLink(token, now, from);
      reply.type('text/html; charset=utf-8');
      if (!r.ok) {
        // Known links only: garbage would let anyone fill the log.
        if (r.linkId !== undefined) audit.record({ at: now, actor: 'console', action: 'console.login_refused', target: `console_link:${r.linkId}`, detail: `${r.reason}; ${from}` });
        return reply.code(401).send(consoleRefusedPage(REFUSED_LINK[r.reason]));
      }
      audit.record({ at: now, actor: 'console', action: 'console.login', target: `console_session:${r.sessionId}`, detail: `link ${r.linkId}; ${from}; ${String(req.headers['user-agent'] ?? '').slice(0, 200)}` });
      reply.header('set-cookie', sessionCookie(r.sessionToken, this.secure(req)));
      return consoleSignedInPage();
    });
  }

  private secure(req: FastifyRequest): boolean {
    return req.protocol === 'https' || (this.rt.config.publicBaseUrl ?? '').startsWith('https://');
  }
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${COOKIE_NAME}=${token}; Path=/console; Max-Age=${SESSION_TTL_MS / 1000}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** Every value of one cookie in a Cookie header (a browser may send the same name twice, for two paths). */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    out.push(part.slice(eq + 1).trim());
  }
  return out;
}

/**
 * Installs the lock on the root app: every route under /console but the
 * login, registered anywhere in this app, answers 401 without a session once
 * real data exists.
 */
export function registerConsoleGuard(app: FastifyInstance, gate: ConsoleGate): void {
  app.addHook('onRequest', async (req, reply) => {
    // The matched route's pattern (percent-decoded by the router); the raw path for no route.
    const path = req.routeOptions.url ?? req.url.split('?')[0]!;
    if (!isConsolePath(path) || path === LOGIN_PATH) return;
    if (gate.admits(req)) return;
    return gate.refuse(req, reply);
  });
}
