import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { noUploads, type Uploader } from '../../bot/lark-uploads.js';
import { UserError } from '../../errors.js';
import type { UnansweredRow } from '../../knowledge/question-log.js';
import { today } from '../../workflow/context.js';
import { overdueCard } from '../../workflow/digest/card.js';
import { buildDigest, canReceiveDigest, DIGEST_AUDIENCE_MESSAGE, digestScope, type DigestScope, type MissedReminder } from '../../workflow/digest/data.js';
import { composeDigest } from '../../workflow/digest/deliver.js';
import { exportFileName, exportProgressXlsx } from '../../workflow/digest/export.js';
import { matchTownship } from '../../workflow/lookup.js';
import { suggestionText } from '../../workflow/names.js';
import { deny, type Principal } from '../../workflow/permissions.js';
import type { IsoDate } from '../../workflow/types.js';
import type { Clock } from '../../clock.js';
import type { CommandContext, CommandHandler } from '../command-router.js';
import { contextFor, knownPrincipal, type WorkflowDeps } from './services.js';

/**
 * 日报, 逾期 [乡镇] and 导出 (leaders and admins, within their scope).
 * Everyone else is refused with a reason, and the refusal is audited.
 */
export interface DigestCommandDeps {
  workflow: WorkflowDeps;
  /** Chart images and report files (larkUploader online, noUploads offline). */
  uploader: () => Uploader;
  /** Where a file message goes (the runtime's outbox; idempotent per intent). */
  /** Offline exports are saved under `<dataDir>/exports/`. */
  dataDir: string;
  /** Admins: questions declined or voted down since a moment (rt.knowledge.unanswered). */
  unanswered?: (sinceMs: number) => UnansweredRow[];
  /** Admins: reminders that could not be delivered on a day (from the scheduler). */
  missedReminders?: (date: IsoDate) => MissedReminder[];
  dashboardUrl?: (p: Principal) => string | undefined;
}

/** The sender, refused unless a leader with a scope or an admin. */
function digestPrincipal(deps: DigestCommandDeps, c: CommandContext, command: string): { p: Principal; scope: DigestScope } {
  const p = knownPrincipal(deps.workflow, c.actor, command, c.clock);
  if (!canReceiveDigest(p)) {
    const msg = p.role === '领导' ? '您在花名册中没有县或乡镇范围，无法查看日报。请联系换届办在「人员」表中填写县或乡镇。' : DIGEST_AUDIENCE_MESSAGE;
    deny(deps.workflow.repos.audit, p, command, null, msg, c.clock.now());
  }
  const ctx = contextFor(deps.workflow, c.clock);
  return { p, scope: digestScope(ctx, p) };
}

function adminExtras(deps: DigestCommandDeps, p: Principal, clock: Clock, day: IsoDate) {
  if (!p.isAdmin) return {};
  return { unanswered: deps.unanswered?.(clock.now() - 86_400_000) ?? [], missedReminders: deps.missedReminders?.(day) ?? [] };
}

export function digestCommand(deps: DigestCommandDeps): CommandHandler {
  return async (c) => {
    const { p } = digestPrincipal(deps, c, '日报');
    const ctx = contextFor(deps.workflow, c.clock);
    const day = today(ctx);
    const { card } = await composeDigest(ctx, p, day, {
      ...adminExtras(deps, p, c.clock, day),
      uploader: deps.uploader(),
      dashboardUrl: deps.dashboardUrl?.(p),
      logger: c.logger,
    });
    c.reply.card(card);
  };
}

export function overdueCommand(deps: DigestCommandDeps): CommandHandler {
  return (c) => {
    const { p, scope } = digestPrincipal(deps, c, '逾期');
    const ctx = contextFor(deps.workflow, c.clock);
    const target = c.command.rest.trim();
    let township: { id: number; name: string } | undefined;
    if (target) {
      const m = matchTownship(ctx.repos.roster, target);
      if (m.kind === 'ambiguous') throw new UserError(`「${target}」对应多个乡镇：${m.options.join('、')}。请写全乡镇名称。`);
      if (m.kind === 'none') throw new UserError(`找不到乡镇「${target}」。${suggestionText(m.suggestions)}发送「逾期」查看本范围全部逾期事项。`.trim(), 'not_found');
      const t = m.value;
      const allowed = scope.kind === 'all' || (scope.kind === 'county' ? t.parentId === scope.id : t.id === scope.id);
      if (!allowed) deny(deps.workflow.repos.audit, p, '逾期', `township:${t.id}`, `「${t.name}」不在您的范围（${scope.name}）内，不能查看其逾期清单。`, c.clock.now());
      township = { id: t.id, name: t.name };
    }
    const data = buildDigest(ctx, p, today(ctx), { weekly: false, maxListItems: Infinity });
    c.reply.card(overdueCard(data, { townshipId: township?.id, township: township?.name, dashboardUrl: deps.dashboardUrl?.(p), tz: ctx.tz }));
  };
}

export function exportCommand(deps: DigestCommandDeps): CommandHandler {
  return async (c) => {
    const { p, scope } = digestPrincipal(deps, c, '导出');
    const ctx = contextFor(deps.workflow, c.clock);
    const day = today(ctx);
    const bytes = await exportProgressXlsx(ctx, p, day);
    const name = exportFileName(scope, day);
    const uploader = deps.uploader();
    const fileKey = uploader === noUploads ? null : await uploader.file(name, bytes, 'xls');
    if (fileKey) {
      // Privately, even when asked in a group: the workbook names people and their villages.
      c.outbox.enqueue({ intent: `export:${c.sourceId}`, to: { type: 'open_id', id: p.openId }, msgType: 'file', content: { file_key: fileKey } });
      c.reply.text(`📊 已生成「${name}」（${scope.name}，截至 ${day}），文件已私信发送给您。`);
      return;
    }
    const dir = join(deps.dataDir, 'exports');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, name);
    writeFileSync(path, bytes);
    c.logger.info({ path, bytes: bytes.length, leader: p.openId }, 'progress report saved');
    c.reply.text(
      uploader === noUploads
        ? `📊 已生成「${name}」。当前为离线模式，无法通过飞书发送文件，已保存到服务器：${path}`
        : `📊 已生成「${name}」，但上传飞书失败，已保存到服务器：${path}。请稍后重试或联系管理员获取。`,
    );
  };
}
