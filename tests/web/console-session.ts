import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Db } from '../../src/store/db.js';
import { createConsoleAuth } from '../../src/web/console-auth.js';

/** A fresh one-time login link token, as `npm run cli -- console link` makes it. */
export function consoleLinkToken(db: Db, now: number): string {
  return createConsoleAuth(db).issueLink(now, 'test').token;
}

/** The cookie pair (`hj_console=…`) from a response's Set-Cookie. */
export function cookieOf(r: LightMyRequestResponse): string {
  const h = r.headers['set-cookie'];
  const first = Array.isArray(h) ? h[0] : h;
  if (!first) throw new Error(`no Set-Cookie (status ${r.statusCode}): ${r.body.slice(0, 200)}`);
  return first.split(';')[0]!;
}

/**
 * Signs in to the console through the real login route (a link, then its
 * cookie) and returns an inject that sends the cookie with every request.
 */
export async function signedInInject(app: FastifyInstance, db: Db, now: number): Promise<(o: string | InjectOptions) => Promise<LightMyRequestResponse>> {
  const r = await app.inject(`/console/login?t=${consoleLinkToken(db, now)}`);
  if (r.statusCode !== 200) throw new Error(`console login refused: ${r.statusCode}`);
  const cookie = cookieOf(r);
  return (o) => {
    const opts: InjectOptions = typeof o === 'string' ? { url: o } : o;
    return app.inject({ ...opts, headers: { ...(opts.headers ?? {}), cookie } });
  };
}
