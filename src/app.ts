import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { registerWebhookRoute } from './bot/webhook-route.js';
import { fastifyHttpOptions, limitConnections } from './http-limits.js';
import type { Runtime } from './runtime.js';
import { storageHealth } from './store/storage-health.js';
import { databaseAlive } from './store/db.js';
import { registerWebRoutes } from './web/routes.js';
import { registerStatusPage, type Readiness } from './web/status-page.js';

/** The HTTP face of the service. Only src/server.ts listens; tests use app.inject or a port of their own. */
export async function buildApp(rt: Runtime): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: rt.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Per-request logs at 200 events/s are noise; refusals and failures are logged where they happen.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    // Slow clients (issue 17): a request must arrive within HTTP_REQUEST_TIMEOUT_MS, its headers within
    // HTTP_HEADERS_TIMEOUT_MS; idle keep-alive connections close after HTTP_KEEP_ALIVE_TIMEOUT_MS.
    ...fastifyHttpOptions(rt.config.http),
  });
  // …and one address holds at most HTTP_MAX_CONNECTIONS_PER_IP connections (the reverse proxy is exempt).
  const httpLog = rt.logger.child({ component: 'http' });
  let lastRefusalLog = 0;
  limitConnections(app.server, rt.config.http, (address, open) => {
    const now = Date.now();
    if (now - lastRefusalLog < 60_000) return;
    lastRefusalLog = now;
    httpLog.warn({ from: address, open, limit: rt.config.http.maxConnectionsPerAddress }, '同一地址的连接数超过上限（HTTP_MAX_CONNECTIONS_PER_IP），新连接已断开');
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

  // database, started, library (the bundled 换届工作指引 is indexed) and storage (false while the disk is
  // full: new events are refused then, see src/store/storage-health.ts). KNOWLEDGE_DIR is indexed after
  // the bundled pack, in the background: `indexing` lists its files still pending and any file that failed
  // (with the reason), without holding readiness back — a bad or huge file must not keep the service out
  // of rotation.
  const readiness = (): Readiness => {
    const storage = storageHealth(rt.db);
    const checks = { database: databaseAlive(rt.db), started: rt.isReady(), library: rt.libraryReady(), storage: !storage.full || storage.probe() };
    return { ok: Object.values(checks).every(Boolean), checks, indexing: rt.knowledge.indexing() };
  };

  app.get('/readyz', async (_req, reply) => {
    const r = readiness();
    const body: Record<string, unknown> = { status: r.ok ? 'ready' : 'not_ready', checks: r.checks, indexing: r.indexing };
    if (!r.checks.storage) body.message = '存储空间已满：暂停接收新的事件，空间恢复后自动继续。';
    else if (!r.checks.library && r.checks.database) body.message = '政策知识库正在建立索引，稍后即可使用。';
    return reply.code(r.ok ? 200 : 503).send(body);
  });

  const metricsAccess = createMetricsAccess(rt);
  if (!rt.config.metricsToken) {
    rt.logger.child({ component: 'metrics' }).info({ path: '/metrics' }, '/metrics 只应答本机直接发来的请求（未设置 METRICS_TOKEN）；要从其他机器抓取，请设置 METRICS_TOKEN');
  }
  app.get('/metrics', async (req, reply) => {
    const refusal = metricsAccess(req);
    if (refusal) {
      if (refusal.challenge) reply.header('www-authenticate', refusal.challenge);
      return reply.code(refusal.status).send({ error: refusal.error, message: refusal.message });
    }
    reply.header('content-type', rt.metrics.registry.contentType);
    return rt.metrics.registry.metrics();
  });

  registerStatusPage(app, rt, readiness);

  return app;
}

export const METRICS_MESSAGES = {
  missing: '访问 /metrics 需要令牌：请在请求头中带上 Authorization: Bearer <METRICS_TOKEN 的值>。',
  invalid: '/metrics 的令牌不正确：请使用服务器上 METRICS_TOKEN 的值（Authorization: Bearer <令牌>）。',
  loopbackOnly:
    '/metrics 只对本机开放：未设置 METRICS_TOKEN 时，只应答本机（127.0.0.1 / ::1）直接发来的请求，经反向代理转发的也不应答。要从其他机器抓取指标，请在服务器上设置 METRICS_TOKEN（用 openssl rand -hex 32 生成），抓取时带上 Authorization: Bearer <令牌>。',
} as const;

type MetricsRefusal = { status: 401 | 403; error: string; message: string; challenge?: string };

/** 127.0.0.0/8, ::1 and their IPv4-mapped form: the kernel never delivers these from another machine. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  return a === '::1' || /^127(\.\d{1,3}){3}$/.test(a);
}

/** Headers a reverse proxy adds: a loopback peer that sends one is forwarding someone else's request. */
const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-host'];

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Who may read /metrics (issue 16). With METRICS_TOKEN: whoever sends it as a
 * bearer token (compared in constant time, loopback included). Without: only
 * a caller on this machine — the socket's peer address, never
 * X-Forwarded-For, which any client can write; and a loopback peer that
 * carries forwarding headers is a proxy on this host relaying an outside
 * request, so it is refused too. Refusals are logged at most once a minute.
 */
function createMetricsAccess(rt: Runtime): (req: FastifyRequest) => MetricsRefusal | undefined {
  const token = rt.config.metricsToken;
  const expected = token ? digest(token) : undefined;
  const log = rt.logger.child({ component: 'metrics' });
  let lastLog = 0;
  let refused = 0;
  const refuse = (req: FastifyRequest, r: MetricsRefusal): MetricsRefusal => {
    refused++;
    const now = Date.now();
    if (now - lastLog >= 60_000) {
      log.warn({ from: req.socket.remoteAddress, status: r.status, refused }, '/metrics 拒绝了未授权的请求');
      lastLog = now;
      refused = 0;
    }
    return r;
  };
  if (expected) {
    return (req) => {
      const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(String(req.headers.authorization ?? ''));
      if (!m) return refuse(req, { status: 401, error: 'unauthorized', message: METRICS_MESSAGES.missing, challenge: 'Bearer realm="metrics"' });
      if (!timingSafeEqual(digest(m[1]!), expected)) {
        return refuse(req, { status: 401, error: 'invalid_token', message: METRICS_MESSAGES.invalid, challenge: 'Bearer realm="metrics", error="invalid_token"' });
      }
      return undefined;
    };
  }
  return (req) => {
    if (isLoopback(req.socket.remoteAddress) && !FORWARDING_HEADERS.some((h) => req.headers[h] !== undefined)) return undefined;
    return refuse(req, { status: 403, error: 'metrics_loopback_only', message: METRICS_MESSAGES.loopbackOnly });
  };
}
