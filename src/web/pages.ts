import { escapeHtml } from './card-html.js';

/**
 * The two pages' HTML: static shells, no inline script or style (the CSP
 * allows only this server's own files). Dynamic values are escaped.
 */

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function shell(opts: { title: string; body: string; scripts: string[]; bodyClass?: string; head?: string }): string {
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(opts.title)}</title>
<link rel="stylesheet" href="/web/web.css">
${opts.head ?? ''}</head>
<body class="${escapeHtml(opts.bodyClass ?? '')}">
${opts.body}
${opts.scripts.map((s) => `<script src="${escapeHtml(s)}" defer></script>`).join('\n')}
</body>
</html>
`;
}

export function consolePage(opts: { online: boolean }): string {
  const banner = opts.online
    ? `<div class="banner banner-danger" id="mode-banner">⚠️ 在线模式下开启了试用页面（CONSOLE_ENABLED=true）：能打开本页的人可以冒充花名册中的人员查看和登记（导入正式数据后须先登录）。试用结束后请关闭。此处的对话只写入本地会话，不发往飞书。</div>`
    : `<div class="banner" id="mode-banner">离线试用：消息只在本页显示，不会发往飞书。</div>`;
  return shell({
    title: '换届助手 · 试用',
    bodyClass: 'console',
    scripts: ['/web/console.js'],
    body: `<header class="top">
  <div class="brand">换届助手 · 试用</div>
  <label class="who">身份 <select id="person" aria-label="以谁的身份发言"></select></label>
</header>
${banner}
<div class="banner banner-demo" id="demo-banner" hidden>演示数据：尚未导入花名册，以下人员、村(社区)和进度都是演示用的，存放在独立的演示数据库中，不影响正式数据。导入花名册后自动切换为正式数据。</div>
<div class="persona" id="persona"></div>
<div class="tools" id="tools"></div>
<main class="chat" id="chat" aria-live="polite"></main>
<div class="toast" id="toast" role="status" hidden></div>
<form class="composer" id="composer" autocomplete="off">
  <input id="text" type="text" maxlength="2000" placeholder="输入问题或命令，例如：选民名单要提前多少天公布？" aria-label="消息">
  <button type="submit" class="btn btn-primary" id="send">发送</button>
</form>`,
  });
}

export function dashboardPage(opts: { demo: boolean }): string {
  return shell({
    title: '换届工作看板',
    bodyClass: 'dashboard',
    scripts: ['/web/echarts.min.js', '/web/dashboard.js'],
    body: `<header class="top">
  <div class="brand">换届工作看板</div>
  <div class="sub" id="scope-line">加载中…</div>
</header>
${opts.demo ? '<div class="banner banner-demo">演示数据：此看板来自试用页面的演示数据库，不是正式数据。</div>' : ''}
<div class="filter" id="filter" hidden><label>范围 <select id="township" aria-label="选择乡镇"></select></label></div>
<main id="dash">
  <section class="tiles" id="tiles"></section>
  <section class="panel"><div class="chart" id="chart-stages"></div></section>
  <section class="panel"><div class="chart" id="chart-trend"></div></section>
  <section class="panel" id="panel-ranking" hidden><div class="chart" id="chart-ranking"></div></section>
  <section class="panel"><h2>逾期清单</h2><div id="overdue"></div></section>
  <section class="panel"><h2>逾期责任人</h2><div id="overdue-people"></div></section>
  <section class="panel"><div class="chart chart-s" id="chart-talks"></div><div id="talks"></div></section>
  <section class="panel"><div class="chart chart-s" id="chart-structure"></div><div id="structure"></div></section>
  <section class="panel"><h2>即将到期</h2><div id="due-soon"></div></section>
  <section class="panel"><h2>未报送</h2><div id="not-reported"></div></section>
  <section class="panel"><h2>风险隐患</h2><div id="risks"></div></section>
</main>
<footer class="foot" id="foot"></footer>`,
  });
}

export function refusedPage(message: string): string {
  return shell({
    title: '无法打开看板',
    bodyClass: 'dashboard',
    scripts: [],
    body: `<main class="refused"><h1>无法打开看板</h1><p>${escapeHtml(message)}</p></main>`,
  });
}

/** The console's refusal (locked, or a link that cannot be used): a reason and what to do, no data. */
export function consoleRefusedPage(opts: { title: string; message: string }): string {
  return shell({
    title: `换届助手 · ${opts.title}`,
    bodyClass: 'dashboard',
    scripts: [],
    body: `<main class="refused"><h1>${escapeHtml(opts.title)}</h1><p>${escapeHtml(opts.message)}</p></main>`,
  });
}

/**
 * After a login link is used: the cookie is set and this page moves on to
 * /console. A page of our own rather than a 30x: a SameSite=Strict cookie set
 * on a redirect that started on another site (a link clicked in a chat) is
 * not sent with the redirected request, while the page's own navigation is
 * same-site. The meta refresh needs no script, so the CSP is unchanged.
 */
export function consoleSignedInPage(): string {
  return shell({
    title: '换届助手 · 已登录',
    bodyClass: 'dashboard',
    scripts: [],
    head: '<meta http-equiv="refresh" content="0; url=/console">\n',
    body: `<main class="refused"><h1>已登录试用页面</h1><p>正在进入试用页面…如果没有自动跳转，请点击：<a href="/console">进入试用页面</a>。登录 12 小时内有效。</p></main>`,
  });
}
