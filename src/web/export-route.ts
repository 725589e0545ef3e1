import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Runtime } from '../runtime.js';
import { today } from '../workflow/context.js';
import { canReceiveDigest, DIGEST_AUDIENCE_MESSAGE, digestScope } from '../workflow/digest/data.js';
import { exportFileName, exportProgressXlsx } from '../workflow/digest/export.js';
import { loadPrincipal } from '../workflow/permissions.js';
import { contextOf } from './dashboard-data.js';
import type { DemoHost } from './demo.js';

/**
 * GET /console/api/export?as=<open_id>: the same printable workbook the chat
 * command 导出 sends, for the person picked in the trial console, as a
 * download (the console cannot receive Lark file messages). Same rule as
 * 导出: leaders with a scope and admins only, within their scope. Reads the
 * real database once a roster is imported, the demo database before (as
 * the rest of the console does).
 *
 * Registered next to the console routes (only when CONSOLE_ENABLED). When
 * the console gets sign-in, `who` returns the signed-in person and `as`
 * must be that person (or be dropped).
 */
export interface ExportRouteDeps {
  rt: Runtime;
  demo: DemoHost;
  /** The signed-in console user, when the console has sign-in; undefined = anyone may pick a person (offline trial). */
  who?: (req: unknown) => string | null | undefined;
}

const querySchema = z.object({ as: z.string().min(1).max(128) });

export function registerExportRoute(app: FastifyInstance, deps: ExportRouteDeps): void {
  const { rt, demo } = deps;
  app.get('/console/api/export', async (req, reply) => {
    const q = querySchema.safeParse(req.query);
    if (!q.success) return reply.code(400).send({ error: 'bad_request', message: '参数不正确：请在试用页面选择一位人员后再导出。' });
    if (deps.who) {
      const signedIn = deps.who(req);
      if (!signedIn) return reply.code(401).send({ error: 'sign_in', message: '请先登录试用页面。' });
      if (signedIn !== q.data.as) return reply.code(403).send({ error: 'forbidden', message: '只能导出您本人的进度表。' });
    }
    const t = rt.workflow.repos.roster.people().length > 0 ? rt : await demo.get();
    const roster = t.workflow.repos.roster;
    if (!roster.personByOpenId(q.data.as)) return reply.code(404).send({ error: 'unknown_person', message: '花名册中没有这个人。' });
    const p = loadPrincipal(roster, t.actorResolver(q.data.as));
    if (!canReceiveDigest(p)) return reply.code(403).send({ error: 'not_leader', message: DIGEST_AUDIENCE_MESSAGE });
    const ctx = contextOf(t);
    const day = today(ctx);
    const bytes = await exportProgressXlsx(ctx, p, day);
    const name = exportFileName(digestScope(ctx, p), day);
    reply
      .header('content-disposition', `attachment; filename="export.xlsx"; filename*=UTF-8''${encodeURIComponent(name)}`)
      .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    return reply.send(bytes);
  });
}
