import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Runtime } from '../runtime.js';
import { dialectOf } from '../store/sql.js';
import { escapeHtml } from './card-html.js';
import { CSP } from './pages.js';

/**
 * `/` (issue 16): what someone who types the service's address into a browser
 * sees — name, version, mode, store kind and readiness in words, with links
 * to /healthz, /readyz and (when it is on) the trial console. Nothing in it is
 * secret: no paths, no addresses of other services, no open_ids, no file
 * names. `Accept: application/json` gets the same as JSON. Unknown addresses
 * get a Chinese 404 (page or JSON) instead of fastify's English one.
 */

/** What /readyz checks (src/app.ts computes it; the status page puts it into words). */
export interface Readiness {
  ok: boolean;
  checks: { database: boolean; started: boolean; library: boolean; storage: boolean };
  indexing: { pendingCount: number; failed: unknown[] };
}

export interface ServiceStatus {
  name: '换届助手';
  version: string;
  mode: 'offline' | 'webhook' | 'ws';
  modeText: string;
  store: 'sqlite' | 'postgres';
  storeText: string;
  ready: boolean;
  readyText: string;
  checks: { key: keyof Readiness['checks']; label: string; ok: boolean; text: string }[];
  console: string | null;
  links: { healthz: '/healthz'; readyz: '/readyz' };
}

function readVersion(): string {
  // src/web/ and dist/web/ are both two folders below package.json.
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '未知';
  } catch {
    return '未知';
  }
}

export const VERSION = readVersion();

export function serviceStatus(rt: Runtime, r: Readiness): ServiceStatus {
  const c = rt.config;
  const mode = c.offline ? 'offline' : c.lark.eventMode;
  const modeText =
    mode === 'offline'
      ? '离线模式：未设置 LARK_APP_ID，消息只写入日志和发件箱，不发往飞书'
      : mode === 'webhook'
        ? '已接入飞书：Webhook 方式接收事件（POST /lark/events）'
        : '已接入飞书：长连接方式接收事件（无需公网地址）';
  const store = dialectOf(rt.db) === 'sqlite' ? 'sqlite' : 'postgres';
  const { pendingCount, failed } = r.indexing;
  const libraryText = r.checks.library
    ? pendingCount > 0
      ? `可用；另有 ${pendingCount} 个文件正在后台建立索引`
      : failed.length > 0
        ? `可用；有 ${failed.length} 个文件未能收录（详见 /readyz）`
        : '可用'
    : '正在建立索引，稍后即可使用';
  const checks: ServiceStatus['checks'] = [
    { key: 'database', label: '数据库', ok: r.checks.database, text: r.checks.database ? '正常' : '无法访问' },
    { key: 'started', label: '服务启动', ok: r.checks.started, text: r.checks.started ? '已完成' : '正在启动' },
    { key: 'library', label: '政策知识库', ok: r.checks.library, text: libraryText },
    { key: 'storage', label: '存储空间', ok: r.checks.storage, text: r.checks.storage ? '正常' : '已满：暂停接收新的事件，空间恢复后自动继续' },
  ];
  return {
    name: '换届助手',
    version: VERSION,
    mode,
    modeText,
    store,
    storeText: store === 'sqlite' ? 'SQLite（本机数据库文件）' : 'PostgreSQL',
    ready: r.ok,
    readyText: r.ok ? '就绪：可以正常使用' : '未就绪：' + checks.filter((x) => !x.ok).map((x) => `${x.label}${x.text}`).join('；'),
    checks,
    console: c.consoleEnabled ? '/console' : null,
    links: { healthz: '/healthz', readyz: '/readyz' },
  };
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/web/web.css">
</head>
<body class="dashboard">
${body}
</body>
</html>
`;
}

export function statusPage(s: ServiceStatus): string {
  const rows = s.checks
    .map((c) => `<tr><th>${escapeHtml(c.label)}</th><td class="${c.ok ? 'c-green' : 'c-red'}">${c.ok ? '✓' : '✗'} ${escapeHtml(c.text)}</td></tr>`)
    .join('\n');
  const consoleLink = s.console
    ? `<p><a class="btn btn-primary" href="${escapeHtml(s.console)}">打开试用页面</a></p>`
    : '';
  return page(
    '换届助手 · 服务状态',
    `<header class="top">
  <div class="brand">换届助手</div>
  <div class="sub">村(社区)“两委”换届工作飞书助手 · 版本 ${escapeHtml(s.version)}</div>
</header>
<main id="status">
  <section class="panel">
    <h2 class="${s.ready ? 'c-green' : 'c-red'}" id="ready">${escapeHtml(s.readyText)}</h2>
    <table>
      <tr><th>运行模式</th><td id="mode">${escapeHtml(s.modeText)}</td></tr>
      <tr><th>数据存储</th><td id="store">${escapeHtml(s.storeText)}</td></tr>
${rows}
    </table>
  </section>
  <section class="panel">
    <h2>使用方式</h2>
    <p>在飞书中找到“换届助手”机器人，发送“帮助”查看可用的命令。领导看板请从日报卡片的「查看详情」打开。</p>
    ${consoleLink}
    <h2>运维检查</h2>
    <p><a href="${s.links.healthz}">/healthz</a> 进程存活 · <a href="${s.links.readyz}">/readyz</a> 是否就绪（供负载均衡和监控使用）</p>
  </section>
</main>
<footer class="foot">换届助手 ${escapeHtml(s.version)}</footer>`,
  );
}

export const NOT_FOUND_MESSAGE = '没有这个页面：请检查地址是否正确。服务首页是 /，可查看服务状态。';

export function notFoundPage(): string {
  return page(
    '换届助手 · 没有这个页面',
    `<header class="top"><div class="brand">换届助手</div></header>
<main class="refused"><h1>没有这个页面</h1><p>请检查地址是否正确（可能复制不完整）。</p><p><a href="/">返回服务首页</a>查看服务状态。</p></main>`,
  );
}

/** The response headers of every page here: the same strict policy as the console and dashboard. */
function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-store');
}

/** A browser asking for a page (Accept names text/html before any JSON), as opposed to an API client. */
function wantsHtml(req: FastifyRequest): boolean {
  const accept = String(req.headers.accept ?? '').toLowerCase();
  const html = accept.indexOf('text/html');
  const json = accept.indexOf('application/json');
  return html >= 0 && (json < 0 || html < json);
}

/** JSON only when asked for it first: a browser, curl (Accept: *\/*) and everyone else get the page. */
function wantsJson(req: FastifyRequest): boolean {
  const accept = String(req.headers.accept ?? '').toLowerCase();
  const json = accept.indexOf('application/json');
  const html = accept.indexOf('text/html');
  return json >= 0 && (html < 0 || json < html);
}

export function registerStatusPage(app: FastifyInstance, rt: Runtime, readiness: () => Readiness): void {
  app.get('/', async (req, reply) => {
    const s = serviceStatus(rt, readiness());
    secure(reply).header('vary', 'accept');
    if (wantsJson(req)) return reply.send(s);
    return reply.type('text/html; charset=utf-8').send(statusPage(s));
  });

  app.setNotFoundHandler(async (req, reply) => {
    secure(reply).code(404).header('vary', 'accept');
    if (req.method === 'GET' && wantsHtml(req)) return reply.type('text/html; charset=utf-8').send(notFoundPage());
    return reply.send({ error: 'not_found', message: NOT_FOUND_MESSAGE });
  });
}
