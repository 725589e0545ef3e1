import { larkUploader, noUploads, type Uploader } from '../../bot/lark-uploads.js';
import { digestCommand, exportCommand, overdueCommand, type DigestCommandDeps } from '../../handlers/workflow/digest-commands.js';
import type { Runtime } from '../../runtime.js';
import type { Principal } from '../permissions.js';
import type { IsoDate } from '../types.js';
import type { MissedReminder } from './data.js';

export interface RegisterDigestOptions {
  /** Default: the Lark uploader when online, none offline. */
  uploader?: Uploader;
  missedReminders?: (date: IsoDate) => MissedReminder[];
  dashboardUrl?: (p: Principal) => string | undefined;
}

/** Registers 日报, 逾期 and 导出 on the runtime's command router. Returns what the handlers use. */
export function registerDigest(rt: Runtime, opts: RegisterDigestOptions = {}): DigestCommandDeps {
  const uploader = opts.uploader ?? (rt.larkClient ? larkUploader(rt.larkClient, rt.logger.child({ component: 'uploads' })) : noUploads);
  const deps: DigestCommandDeps = {
    workflow: rt.workflow,
    uploader: () => uploader,
    dataDir: rt.config.dataDir,
    unanswered: (since) => rt.knowledge.unanswered(since),
    missedReminders: opts.missedReminders,
    dashboardUrl: opts.dashboardUrl,
  };
  rt.commands.on('日报', digestCommand(deps)).on('逾期', overdueCommand(deps)).on('导出', exportCommand(deps));
  return deps;
}
