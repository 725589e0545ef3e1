import { Cron } from 'croner';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { pruneBackups, writeBackup, type BackupConfig } from './backup.js';
import type { Db } from './db.js';

/**
 * Scheduled online backups (BACKUP_SCHEDULE, a 5-field cron in TZ_NAME; '' = none) into
 * BACKUP_DIR, keeping the newest BACKUP_KEEP scheduled ones. One at a time: a run still going
 * when the next is due is not doubled. A failure is logged with its Chinese reason and counted.
 */
export class BackupService {
  private cron?: Cron;
  private running: Promise<void> | null = null;

  constructor(
    private readonly o: { db: Db; config: BackupConfig; logger: Logger; count?: (result: 'ok' | 'failed') => void },
  ) {}

  start(): void {
    if (!this.o.config.backup.schedule) return;
    this.cron = new Cron(this.o.config.backup.schedule, { timezone: this.o.config.tz, protect: true }, () => void this.runOnce());
  }

  /** One scheduled backup now (overlapping calls share the one in progress). */
  runOnce(): Promise<void> {
    if (!this.running) {
      this.running = this.backup().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async backup(): Promise<void> {
    const { db, config, logger } = this.o;
    if (!db.open) return;
    try {
      const r = await writeBackup(db, config, { kind: 'scheduled' });
      const removed = pruneBackups(config.backup.dir, config.backup.keep);
      logger.info({ file: r.file, bytes: r.manifest.bytes, schema_version: r.manifest.schema_version, ms: r.ms, removed }, '定时备份完成');
      this.o.count?.('ok');
    } catch (e) {
      const reason = e instanceof AppError ? e.userMessage : e instanceof Error ? e.message : String(e);
      logger.error({ err: e, reason }, `定时备份失败：${reason}`);
      this.o.count?.('failed');
    }
  }

  stop(): Promise<void> {
    this.cron?.stop();
    return this.running ?? Promise.resolve();
  }
}
