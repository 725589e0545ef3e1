import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Runtime } from '../runtime.js';
import { buildDashboard, dashboardAccess, type DashboardAccess } from './dashboard-data.js';
import { claimsDemo, TOKEN_FAILURE_MESSAGES, verifyDashboardToken, type TokenFailure } from './dashboard-token.js';
import type { DemoHost } from './demo.js';
import { dashboardPage, refusedPage } from './pages.js';

/**
 * The leader dashboard: /dashboard?t=<token> (the page) and
 * /dashboard/api/data?t=<token>[&township=<id>] (its data). Every request
 * checks the token (signature, expiry), then the roster (still a leader of
 * that scope), then the township filter (inside the scope); any failure is a
 * 403 whose body names the reason and carries no data.
 */
export interface DashboardDeps {
  rt: Runtime;
  demo: DemoHost;
  demoKey: Buffer;
  /** Whether the console (and so the demo database) is on. */
  consoleEnabled: boolean;
}

type Checked = { ok: true; rt: Runtime; demo: boolean; access: Extract<DashboardAccess, { ok: true }> } | { ok: false; reason: TokenFailure };

export function registerDashboardRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const { rt } = deps;

  async function check(token: unknown, township: unknown): Promise<Checked> {
    if (typeof token !== 'string' || token === '') return { ok: false, reason: 'missing' };
    const demo = deps.consoleEnabled && claimsDemo(token);
    const v = verifyDashboardToken(token, demo ? deps.demoKey : rt.config.dashboardSecret, rt.clock.now());
    if (!v.ok) return v;
    // Each key accepts only its own kind of link.
    if (!!v.claims.demo !== demo) return { ok: false, reason: 'bad_signature' };
    const target = demo ? await deps.demo.get() : rt;
    const access = dashboardAccess(target, v.claims, typeof township === 'string' ? township : undefined);
    if (!access.ok) return access;
    return { ok: true, rt: target, demo, access };
  }

  function refuse(reply: FastifyReply, reason: TokenFailure, html: boolean) {
    reply.code(403);
    if (html) return reply.type('text/html; charset=utf-8').send(refusedPage(TOKEN_FAILURE_MESSAGES[reason]));
    return reply.send({ error: reason, message: TOKEN_FAILURE_MESSAGES[reason] });
  }

  app.get('/dashboard', async (req, reply) => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    const c = await check(q.t, q.township);
    if (!c.ok) {
      req.log.info({ reason: c.reason }, 'dashboard link refused');
      return refuse(reply, c.reason, true);
    }
    reply.type('text/html; charset=utf-8');
    return dashboardPage({ demo: c.demo });
  });

  app.get('/dashboard/api/data', async (req, reply) => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    const c = await check(q.t, q.township);
    if (!c.ok) {
      req.log.info({ reason: c.reason }, 'dashboard data refused');
      return refuse(reply, c.reason, false);
    }
    return buildDashboard(c.rt, c.access, { demo: c.demo });
  });
}
