import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { Runtime } from './runtime.js';
import { buildApp } from './app.js';
import { limitHeapGrowth } from './heap.js';

limitHeapGrowth();

if (existsSync('.env')) process.loadEnvFile('.env');

let config;
try {
  config = loadConfig(process.env);
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(e.message + '\n');
    process.exit(1);
  }
  throw e;
}

const logger = createLogger(config);
// The library is indexed after listening: a bad file in KNOWLEDGE_DIR never keeps the service from starting.
const rt = new Runtime({ config, logger, indexInBackground: true });
const app = await buildApp(rt);
await rt.start();
await app.listen({ port: config.port, host: config.host });
logger.info(
  {
    mode: config.offline ? 'offline' : 'online',
    event_mode: config.lark.eventMode,
    port: config.port,
    data_dir: config.dataDir,
  },
  config.offline
    ? '换届助手已启动（离线模式：未设置 LARK_APP_ID，消息只写入日志和发件箱）'
    : '换届助手已启动',
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: finishing in-flight work');
  const force = setTimeout(() => {
    logger.error('shutdown took too long; exiting');
    process.exit(1);
  }, 20_000);
  force.unref();
  try {
    await app.close();
    await rt.stop();
    logger.info('stopped cleanly');
  } catch (e) {
    logger.error({ err: e }, 'error during shutdown');
    process.exitCode = 1;
  }
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
