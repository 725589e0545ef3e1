import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { systemClock } from '../clock.js';
import { createAuditRepo } from '../store/audit-repo.js';
import { createConsoleAuth, LINK_TTL_MS, loginUrl } from '../web/console-auth.js';
import { withCliContext } from './context.js';

/**
 * `console link`: a one-time sign-in link for the trial console (/console),
 * which asks for one once real data is imported (issue 14). Written to the
 * shared database, so the running service accepts it; valid 10 minutes, once.
 */
export function registerConsoleCommands(program: Command): void {
  const cmd = program.command('console').description('试用页面（/console）：console link 生成一次性登录链接');
  cmd
    .command('link')
    .description(`生成试用页面的一次性登录链接（${LINK_TTL_MS / 60_000} 分钟内有效，只能使用一次）`)
    .action(async () => {
      await withCliContext(async ({ config, db }) => {
        const now = systemClock.now();
        const actor = `cli:${safeUser()}`;
        const link = createConsoleAuth(db).issueLink(now, actor);
        createAuditRepo(db).record({ at: now, actor, action: 'console.link_created', target: `console_link:${link.id}`, detail: `expires ${new Date(link.expiresAt).toISOString()}` });
        const until = new Intl.DateTimeFormat('zh-CN', { timeZone: config.tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(link.expiresAt);
        process.stdout.write(
          `试用页面登录链接（${until} 前有效，只能使用一次；打开后 12 小时内免登录）：\n${loginUrl(config, link.token)}\n`,
        );
        if (!config.consoleEnabled) {
          process.stderr.write('注意：按当前配置试用页面未开启（在线模式下默认关闭）。需要时设置 CONSOLE_ENABLED=true 并重启服务，否则链接打不开。\n');
        }
        if (!config.publicBaseUrl) {
          process.stderr.write(`提示：链接指向本机 127.0.0.1:${config.port}。从其他电脑打开时，请设置 PUBLIC_BASE_URL 为服务的访问地址，或把链接中的地址换成服务器地址。\n`);
        }
      });
    });
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
