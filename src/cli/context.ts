import { pino } from 'pino';
import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import type { Db } from '../store/db.js';
import { openStoreWithUpgradeBackup } from '../store/backup.js';

export interface CliContext {
  config: Config;
  db: Db;
  /** Logs go to stderr so that stdout stays clean for --json output. */
  logger: Logger;
}

/** Opens config, logger and the migrated database for one CLI command, and closes them after. */
export async function withCliContext<T>(fn: (ctx: CliContext) => Promise<T>): Promise<T> {
  const config = loadConfig(process.env);
  const logger = createLogger({ ...config, logLevel: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
  // The first command after an upgrade migrates too: it makes the pre-upgrade backup first, like the service.
  const db = openStoreWithUpgradeBackup(config);
  try {
    return await fn({ config, db, logger });
  } finally {
    db.close();
  }
}
