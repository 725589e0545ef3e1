import { randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime.js';
import { ConsoleGate, registerConsoleGuard } from './console-auth-guard.js';
import { registerConsoleRoutes } from './console-routes.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import { DemoHost } from './demo.js';
import { registerExportRoute } from './export-route.js';
import { CSP } from './pages.js';

/**
 * The web pages (issue 6, docs/web.md): the trial console (/console, only
 * when CONSOLE_ENABLED — by default in offline mode) and the leader
 * dashboard (/dashboard, signed links), with their scripts and styles under
 * /web/. Every response of these routes carries a strict CSP and no-store.
 */
const require = createRequire(import.meta.url);

interface Asset {
  body: Buffer;
  type: string;
  cache: string;
}

function loadAssets(): Map<string, Asset> {
  const own = (name: string, type: string): [string, Asset] => [
    name,
    { body: readFileSync(new URL(`./assets/${name}`, import.meta.url)), type, cache: 'no-cache' },
  ];
  return new Map([
    own('web.css', 'text/css; charset=utf-8'),
    own('console.js', 'text/javascript; charset=utf-8'),
    own('dashboard.js', 'text/javascript; charset=utf-8'),
    // ECharts' own browser build, from node_modules: nothing is loaded from the internet.
    ['echarts.min.js', { body: readFileSync(require.resolve('echarts/dist/echarts.min.js')), type: 'text/javascript; charset=utf-8', cache: 'public, max-age=86400' }],
  ]);
}

export function registerWebRoutes(app: FastifyInstance, rt: Runtime): void {
  const consoleEnabled = rt.config.consoleEnabled;
  const demo = new DemoHost(rt);
  // Signs the console's links to the demo database's dashboard; lives as long as the process.
  const demoKey = randomBytes(32);
  const assets = loadAssets();
  const log = rt.logger.child({ component: 'web' });
  // On the root app, so every /console route is locked wherever it is registered (issue 14).
  const gate = new ConsoleGate(rt);
  registerConsoleGuard(app, gate);

  void app.register(async (web) => {
    web.addHook('onSend', async (_req, reply, payload) => {
      reply.header('content-security-policy', CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('x-frame-options', 'DENY');
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      return payload;
    });

    // The CJK font for machines without one (the page's font stack asks for it last).
    const fontFile = require.resolve('@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf');
    web.get('/web/fonts/noto-sans-sc.ttf', async (_req, reply) => {
      reply.header('cache-control', 'public, max-age=604800').type('font/ttf');
      return reply.send(createReadStream(fontFile));
    });

    web.get('/web/:file', async (req, reply) => {
      const a = assets.get((req.params as { file: string }).file);
      if (!a) return reply.code(404).send({ error: 'not_found' });
      reply.header('cache-control', a.cache).type(a.type);
      return a.body;
    });

    if (consoleEnabled) {
      registerConsoleRoutes(web, { rt, demo, demoKey, gate });
      // Under /console, so the lock covers it; no `who`: a console session is the operator's, who may play any persona.
      registerExportRoute(web, { rt, demo });
    }
    registerDashboardRoutes(web, { rt, demo, demoKey, consoleEnabled });
  });

  app.addHook('onClose', async () => {
    await demo.stop();
  });

  if (consoleEnabled && !rt.config.offline) {
    log.warn(
      { path: '/console' },
      '试用页面已在在线模式下开启（CONSOLE_ENABLED=true）：登录试用页面的人可以冒充花名册中的人员查看和登记。试用结束后请设置 CONSOLE_ENABLED=false',
    );
  } else if (consoleEnabled) {
    log.info({ path: '/console', url: `http://localhost:${rt.config.port}/console` }, '试用页面已开启（离线模式）：在浏览器中打开 /console');
  }
  if (consoleEnabled && gate.locked()) {
    log.info({ path: '/console' }, '试用页面已锁定（已导入正式数据）：登录链接请在服务器上运行 npm run cli -- console link');
  }
  if (!rt.config.dashboardSecret) log.info('领导看板链接未启用：未设置 DASHBOARD_SECRET（试用页面的演示数据除外）');
}
