import { userInfo } from 'node:os';
import { ConfigError, SECRET_VARIABLES } from './config.js';
import { AppError } from './errors.js';

/**
 * What the service says when it cannot start (issue 16): one line of Chinese on stderr per problem,
 * naming the variable or the path and what the person at the server should do — never a stack
 * trace, never a library's English. The service then exits non-zero without having written anything.
 */

/** What was being done when the error happened: the same errno means different things at each step. */
export type StartupStage =
  /** Reading .env. */
  | 'env'
  /** Taking DATA_DIR (creating it, its lock file). */
  | 'data_dir'
  /** Opening the database and migrating it. */
  | 'database'
  /** Binding PORT on HOST. */
  | 'listen'
  /** Anything else during start (building the app, starting services). */
  | 'start';

export interface StartupContext {
  dataDir: string;
  dbFile?: string;
  port: number;
  host: string;
  /** Set when the PostgreSQL store is used (the URL may carry a password: only host, port and database are shown). */
  databaseUrl?: string;
}

const SECRETS = new Set<string>(SECRET_VARIABLES);

/** zod's own English messages (for the variables config.ts does not word itself), said in Chinese. */
function chineseIssue(message: string): string {
  if (/[\u4e00-\u9fff]/.test(message)) return message;
  let m: RegExpMatchArray | null;
  if (/expected number, received NaN/.test(message)) return '应为数字';
  if (/expected int/.test(message)) return '应为整数';
  if ((m = message.match(/Too big: expected number to be <=?\s*(-?[\d.]+)/))) return `不能大于 ${m[1]}`;
  if ((m = message.match(/Too small: expected number to be >=\s*(-?[\d.]+)/))) return `不能小于 ${m[1]}`;
  if ((m = message.match(/Too small: expected number to be >\s*(-?[\d.]+)/))) return `应大于 ${m[1]}`;
  if (/Too small: expected string to have >=1 characters/.test(message)) return '不能为空';
  if ((m = message.match(/Invalid option: expected one of (.+)$/))) return `应为以下之一：${m[1]!.replace(/"/g, '').replace(/\|/g, '、')}`;
  if (/Invalid (input|url|URL)/.test(message)) return '取值格式不对';
  return `取值不对（${message}）`;
}

/**
 * A ConfigError as the person editing .env needs it: one line per problem, the variable, the value
 * found (never for a secret), what it should be.
 */
export function configErrorLines(e: ConfigError, env: Record<string, string | undefined> = {}): string[] {
  return e.problems.map((p) => {
    const v = env[p.variable];
    const shown = v === undefined || SECRETS.has(p.variable) ? '' : `（当前为 "${v.length > 60 ? v.slice(0, 60) + '…' : v}"）`;
    return `配置有误，服务未启动：${p.variable}${shown} ${chineseIssue(p.message)}；请在 .env 文件或环境变量中改正 ${p.variable}。`;
  });
}

/** host:port/database of a PostgreSQL URL, without the user's password. */
export function describePgUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return '（无法解析的地址）';
  }
}

function codeOf(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function pathOf(e: unknown): string | undefined {
  const p = (e as { path?: unknown } | null)?.path;
  return typeof p === 'string' ? p : undefined;
}

/** The account the service runs as, for a chown the reader can paste. */
function runAs(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '运行服务的用户');
  }
}

/** libpq's connection failures (pg-native throws plain Errors with libpq's text). */
function pgReason(text: string): string | undefined {
  const t = text.toLowerCase();
  if (t.includes('connection refused')) return '连接被拒绝（数据库没有启动，或端口不对）';
  if (t.includes('could not translate host name') || t.includes('name or service not known') || t.includes('enotfound'))
    return '找不到该主机名（地址写错，或 DNS 不可用）';
  if (t.includes('timeout') || t.includes('timed out')) return '连接超时（网络不通，或被防火墙拦截）';
  if (t.includes('password authentication failed') || t.includes('authentication failed') || t.includes('no password supplied'))
    return '用户名或密码不对';
  if (t.includes('does not exist') && t.includes('database')) return '数据库不存在（请先 CREATE DATABASE）';
  if (t.includes('no pg_hba.conf entry')) return '服务器不允许本机连接（pg_hba.conf 中没有本机的条目）';
  if (t.includes('too many clients')) return '连接数已满（max_connections）';
  if (t.includes('server closed the connection') || t.includes('could not connect') || t.includes('connection to server'))
    return '无法建立连接';
  return undefined;
}

/**
 * The one line (or, for a ConfigError, one line per problem) to print for an error that stopped the
 * start, or null when the error is none of the known kinds (the caller then prints a generic line).
 */
export function startupErrorLines(e: unknown, stage: StartupStage, ctx: StartupContext, env: Record<string, string | undefined> = {}): string[] | null {
  if (e instanceof ConfigError) return configErrorLines(e, env);
  const code = codeOf(e);
  const dir = ctx.dataDir;
  const where = pathOf(e) ?? ctx.dbFile ?? dir;

  if (stage === 'listen') {
    const port = ctx.port;
    switch (code) {
      case 'EADDRINUSE':
        return [
          `端口 ${port} 已被占用（PORT=${port}），服务未启动：可能已有一个换届助手或其他程序在使用它。` +
            `请先停止那个程序（查看占用者：ss -ltnp | grep :${port}），或在 .env 中把 PORT 改为其他端口。`,
        ];
      case 'EACCES':
      case 'EPERM':
        return [
          `没有权限监听端口 ${port}（PORT=${port}），服务未启动：1024 以下的端口需要管理员权限。` +
            `请把 PORT 改为 1024 以上的端口（如 3000），需要 80/443 时用 nginx 等反向代理转发。`,
        ];
      case 'EADDRNOTAVAIL':
        return [`HOST=${ctx.host} 不是本机的网络地址，服务未启动：请把 HOST 改为 0.0.0.0（所有网卡）或本机的某个 IP 地址。`];
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return [`HOST=${ctx.host} 无法解析为地址，服务未启动：请把 HOST 改为 0.0.0.0 或本机的 IP 地址。`];
    }
  }

  if (ctx.databaseUrl && stage === 'database') {
    const reason = pgReason(`${messageOf(e)} ${code ?? ''}`);
    if (reason) {
      return [
        `无法连接 PostgreSQL（DATABASE_URL 指向 ${describePgUrl(ctx.databaseUrl)}）：${reason}，服务未启动。` +
          `请确认数据库已启动、地址端口和账号正确、防火墙放行；不用 PostgreSQL 时删除 DATABASE_URL 即改用内置的 SQLite。`,
      ];
    }
    if (e instanceof AppError) return [`${e.userMessage}（服务未启动）`];
  }

  // Disk full: the errno from the file system, or SQLite's own code.
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL' || (code === undefined && /database or disk is full/i.test(messageOf(e)))) {
    return [
      `磁盘已满，服务未启动：数据目录 DATA_DIR=${dir} 所在的磁盘没有剩余空间${code === 'EDQUOT' ? '（超出磁盘配额）' : ''}。` +
        `请清理该磁盘（查看：df -h ${dir}），或把 DATA_DIR 改到有空间的磁盘后再启动。`,
    ];
  }

  if (stage === 'data_dir' || stage === 'database') {
    switch (code) {
      case 'EACCES':
      case 'EPERM':
      case 'SQLITE_READONLY':
      case 'SQLITE_READONLY_DIRECTORY':
      case 'SQLITE_CANTOPEN':
      case 'SQLITE_PERM':
      case 'SQLITE_AUTH': {
        const user = runAs();
        return [
          `无法写入数据目录 DATA_DIR=${dir}（${where === dir ? '' : `${where}：`}权限不足），服务未启动。` +
            `请把该目录交给运行服务的用户 ${user}：chown -R ${user} ${dir} && chmod u+rwx ${dir}，或把 DATA_DIR 改到 ${user} 可写的目录。`,
        ];
      }
      case 'EROFS':
      case 'SQLITE_READONLY_ROLLBACK':
      case 'SQLITE_IOERR_WRITE':
        return [`数据目录 DATA_DIR=${dir} 所在的文件系统是只读的，服务未启动：请把 DATA_DIR 改到可写的磁盘，或以读写方式重新挂载该磁盘。`];
      case 'ENOTDIR':
      case 'EEXIST':
        return [`DATA_DIR=${dir} 不是一个目录（${where} 是一个文件），服务未启动：请把 DATA_DIR 改为一个目录的路径，或移走该文件。`];
      case 'ENAMETOOLONG':
      case 'ELOOP':
        return [`DATA_DIR=${dir} 路径无效（过长或存在循环的符号链接），服务未启动：请改为一个普通的目录路径。`];
      case 'SQLITE_CORRUPT':
      case 'SQLITE_NOTADB':
        return [
          `数据库文件 ${ctx.dbFile ?? dir} 已损坏或不是换届助手的数据库，服务未启动：请停止所有使用它的程序后从备份恢复；` +
            `不要删除该文件，先把它复制保存一份以便排查。`,
        ];
      case 'SQLITE_BUSY':
      case 'SQLITE_LOCKED':
        return [`数据库文件 ${ctx.dbFile ?? dir} 正被其他程序锁住，服务未启动：请确认没有其他程序（备份、恢复、另一个服务）正在写它，稍后再启动。`];
      case 'EIO':
      case 'SQLITE_IOERR':
        return [`读写数据目录 DATA_DIR=${dir} 时磁盘出错（I/O 错误），服务未启动：请检查磁盘（dmesg、smartctl）后再启动。`];
    }
  }

  if (stage === 'env' && code) {
    return [`无法读取 .env 文件（${code === 'EACCES' ? '权限不足' : code}），服务未启动：请检查当前目录下的 .env 文件。`];
  }

  // Our own typed refusals (the DATA_DIR lock, a missing driver) already speak Chinese.
  if (e instanceof AppError) return [`${e.userMessage}（服务未启动）`];
  return null;
}

/** What to print when the error is of no known kind: still one Chinese line, with the original text for whoever debugs it. */
export function unexpectedStartupLine(e: unknown): string {
  const code = codeOf(e);
  const msg = messageOf(e).split('\n')[0]!.slice(0, 300);
  return `启动失败（未预料的错误${code ? ` ${code}` : ''}）：${msg}。请把这一行和日志发给维护人员。`;
}
