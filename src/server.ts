import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { Runtime } from './runtime.js';
import { buildApp } from './app.js';
import { limitHeapGrowth } from './heap.js';
import { acquireDataDirLock, type DataDirLock } from './store/data-dir-lock.js';
import { startupErrorLines, unexpectedStartupLine, type StartupContext, type StartupStage } from './startup-errors.js';

/**
 * The service (`npm start` → `node dist/server.js`; `tsx src/server.ts` from the sources).
 *
 * Start: every way it can fail at start-up that the person at the server can fix (a wrong .env value,
 * DATA_DIR not writable, the disk full, PORT taken, PostgreSQL unreachable, another service on the
 * same DATA_DIR) ends with one line of Chinese on stderr saying what and where (src/startup-errors.ts),
 * exit code 1, and nothing written: PORT is checked before DATA_DIR is touched, and a database file
 * this start created is removed again if opening it failed.
 *
 * Stop: SIGTERM, SIGINT or SIGHUP stop within 10 s — no new requests, in-flight events finish (or
 * stay in the inbox and are replayed at the next start), sends in flight finish, the database closes,
 * the DATA_DIR lock is released, exit code 0. Past 9 s it exits anyway (code 1), saying why.
 */

limitHeapGrowth();

/** The whole stop must fit in 10 s (what a process manager waits before SIGKILL); this leaves a margin. */
const STOP_LIMIT_MS = 9000;

const ctx: StartupContext = {
  dataDir: resolve(process.env.DATA_DIR || './data'),
  port: Number(process.env.PORT ?? 3000),
  host: process.env.HOST || '0.0.0.0',
};

function fail(e: unknown, stage: StartupStage, cleanup?: () => void): never {
  try {
    cleanup?.();
  } catch {
    /* best effort */
  }
  const lines = startupErrorLines(e, stage, ctx, process.env) ?? [unexpectedStartupLine(e)];
  process.stderr.write(lines.join('\n') + '\n');
  if (process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace') process.stderr.write(`${(e as Error)?.stack ?? e}\n`);
  process.exit(1);
}

try {
  if (existsSync('.env')) process.loadEnvFile('.env');
} catch (e) {
  fail(e, 'env');
}

let config: Config;
try {
  config = loadConfig(process.env);
} catch (e) {
  fail(e, 'env');
}
ctx.dataDir = config.dataDir;
ctx.dbFile = config.databaseUrl ? undefined : config.dbFile;
ctx.port = config.port;
ctx.host = config.host;
ctx.databaseUrl = config.databaseUrl;

// 1. PORT, before anything is written: a second start on a taken port leaves no trace.
try {
  await probePort(config.port, config.host);
} catch (e) {
  fail(e, 'listen');
}

// 2. DATA_DIR: created if missing, and taken — one service per SQLite data directory (PostgreSQL
// deployments run several instances on purpose). This is also where an unwritable directory shows.
let lock: DataDirLock | undefined;
if (!config.databaseUrl) {
  try {
    lock = acquireDataDirLock(config.dataDir);
  } catch (e) {
    fail(e, 'data_dir');
  }
}

// 3. The database: opened and migrated by the runtime.
// libpq waits forever for a host that drops packets; give the connection 10 s unless told otherwise.
if (config.databaseUrl) process.env.PGCONNECT_TIMEOUT ??= '10';
const dbFiles = ctx.dbFile ? [ctx.dbFile, `${ctx.dbFile}-wal`, `${ctx.dbFile}-shm`, `${ctx.dbFile}-journal`] : [];
const createdHere = dbFiles.filter((f) => !existsSync(f));
const undoCreate = () => {
  for (const f of createdHere) rmSync(f, { force: true });
  lock?.release();
};

const logger = createLogger(config);
let rt: Runtime;
try {
  // The library is indexed after listening: a bad file in KNOWLEDGE_DIR never keeps the service from starting.
  rt = new Runtime({ config, logger, indexInBackground: true });
} catch (e) {
  fail(e, 'database', undoCreate);
}

let app: FastifyInstance;
try {
  app = await buildApp(rt);
  await rt.start();
} catch (e) {
  fail(e, 'start');
}
try {
  await app.listen({ port: config.port, host: config.host });
} catch (e) {
  // Taken between the probe and now.
  fail(e, 'listen');
}
const address = app.server.address();
logger.info(
  {
    mode: config.offline ? 'offline' : 'online',
    event_mode: config.lark.eventMode,
    port: typeof address === 'object' && address ? address.port : config.port,
    data_dir: config.dataDir,
    pid: process.pid,
  },
  config.offline
    ? '换届助手已启动（离线模式：未设置 LARK_APP_ID，消息只写入日志和发件箱）'
    : '换届助手已启动',
);

let stopping = false;
async function shutdown(reason: string): Promise<void> {
  if (stopping) {
    // A second signal (Ctrl-C reaches the service from the terminal and again through npm) changes nothing.
    logger.info({ reason }, '正在停止中，忽略重复的停止信号');
    return;
  }
  stopping = true;
  const t0 = Date.now();
  logger.info({ reason }, '正在停止：不再接收新请求，完成处理中的事件');
  const force = setTimeout(() => {
    logger.error(
      { reason, after_ms: Date.now() - t0 },
      `停止超过 ${STOP_LIMIT_MS / 1000} 秒，强制退出：未处理完的事件和未发出的消息已保存在数据库中，下次启动时继续处理`,
    );
    lock?.release();
    process.exit(1);
  }, STOP_LIMIT_MS);
  force.unref();
  try {
    // Requests in flight are answered; idle keep-alive connections close. A client holding a request
    // open past 3 s is cut off, so the events and sends get the rest of the time.
    let t: NodeJS.Timeout | undefined;
    const closed = app.close();
    await Promise.race([closed, new Promise((r) => (t = setTimeout(r, 3000)))]);
    clearTimeout(t);
    app.server.closeAllConnections();
    const left = STOP_LIMIT_MS - (Date.now() - t0);
    await rt.stop({ flushMs: Math.max(0, Math.min(5000, left - 2000)) });
    lock?.release();
    logger.info({ reason, elapsed_ms: Date.now() - t0 }, '已停止');
    process.exit(0);
  } catch (e) {
    logger.error({ err: e, reason }, '停止时出错');
    lock?.release();
    process.exit(1);
  }
}
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal));
watchNpmWrapper(() => void shutdown('parent exited'));

/** Whether PORT can be bound on HOST now (port 0: any free port, nothing to check). */
function probePort(port: number, host: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolveProbe, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolveProbe()));
  });
}

/**
 * `npm start` runs `sh -c "node dist/server.js"`, and npm forwards SIGTERM to that shell only: the
 * shell dies and the service would be left running with no parent. When our parent is such a shell
 * under npm, its disappearance is a stop signal. (A service started with nohup or setsid is not
 * affected: only the npm wrapper's shell counts.) Linux only; elsewhere nothing is watched.
 */
function watchNpmWrapper(onGone: () => void): void {
  const cmdline = (pid: number): string[] => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      return [];
    }
  };
  const parentPid = (pid: number): number => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return 0;
    }
  };
  const ppid = process.ppid;
  const parent = cmdline(ppid);
  if (!/(^|\/)(sh|dash|bash|ash)$/.test(parent[0] ?? '') || parent[1] !== '-c') return;
  // npm renames itself ("npm start" as one argument); run from its script it is …/npm-cli.js.
  if (!cmdline(parentPid(ppid)).some((a) => /(^|\/)npm(-cli\.js)?(\s|$)/.test(a))) return;
  const timer = setInterval(() => {
    if (process.ppid !== ppid) {
      clearInterval(timer);
      onGone();
    }
  }, 250);
  timer.unref();
}
