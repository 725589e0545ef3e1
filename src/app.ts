import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerWebhookRoute } from './bot/webhook-route.js';
import type { Runtime } from './runtime.js';
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
    const checks = { database: rt.db.open, started: rt.isReady() };
    const ok = Object.values(checks).every(Boolean);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', checks });
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', rt.metrics.registry.contentType);
    return rt.metrics.registry.metrics();
  });

  return app;
}
