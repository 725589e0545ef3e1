import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerWebhookRoute } from './bot/webhook-route.js';
import type { Runtime } from './runtime.js';
import { storageHealth } from './store/storage-health.js';
import { databaseAlive } from './store/db.js';
import { registerWebRoutes } from './web/routes.js';

/** The HTTP face of the service. Only src/server.ts listens; tests use app.inject or a port of their own. */
export async function buildApp(rt: Runtime): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: rt.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Per-request logs at 200 events/s are noise; refusals and failures are logged where they happen.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
  });

  if (rt.config.lark.eventMode === 'webhook') {
    await registerWebhookRoute(app, {
      lark: rt.config.lark,
      intake: rt.intake,
      clock: rt.clock,
      logger: rt.logger.child({ component: 'webhook' }),
      metrics: rt.metrics,
    });
  }

  registerWebRoutes(app, rt);

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    // storage: false while the disk is full (new events are refused then; see src/store/storage-health.ts).
    const storage = storageHealth(rt.db);
    // library: the bundled 换届工作指引 is indexed. KNOWLEDGE_DIR is indexed after it, in the background:
    // `indexing` lists its files still pending and any file that failed (with the reason), without
    // holding readiness back — a bad or huge file must not keep the service out of rotation.
    const checks = { database: databaseAlive(rt.db), started: rt.isReady(), library: rt.libraryReady(), storage: !storage.full || storage.probe() };
    const ok = Object.values(checks).every(Boolean);
    const body: Record<string, unknown> = { status: ok ? 'ready' : 'not_ready', checks, indexing: rt.knowledge.indexing() };
    if (!checks.storage) body.message = '存储空间已满：暂停接收新的事件，空间恢复后自动继续。';
    else if (!checks.library && checks.database) body.message = '政策知识库正在建立索引，稍后即可使用。';
    return reply.code(ok ? 200 : 503).send(body);
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', rt.metrics.registry.contentType);
    return rt.metrics.registry.metrics();
  });

  return app;
}
