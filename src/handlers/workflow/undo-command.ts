import { UserError } from '../../errors.js';
import { undoLast } from '../../workflow/changes.js';
import { stageUndoGuard } from '../../workflow/checkin.js';
import type { EntitySnapshot } from '../../store/changes-repo.js';
import type { StageStatus } from '../../workflow/types.js';
import type { CommandHandler } from '../command-router.js';
import { contextFor, knownPrincipal, type WorkflowDeps } from './services.js';

/** 撤销: undoes the sender's own last change (never someone else's). */
export function undoCommand(deps: WorkflowDeps): CommandHandler {
  return (c) => {
    if (c.command.args.length) throw new UserError('「撤销」只撤回您最近一次登记，不需要加内容；直接发送「撤销」即可。');
    const ctx = contextFor(deps, c.clock);
    const p = knownPrincipal(deps, c.actor, '撤销', c.clock);
    const r = undoLast(ctx, p.openId, c.sourceId, (change, before: EntitySnapshot[]) => {
      for (const b of before) {
        if (b.entity !== 'stage_progress') continue;
        stageUndoGuard(ctx, Number(b.key.village_id), String(b.key.stage_key), (b.row?.status as StageStatus | undefined) ?? undefined);
      }
      void change;
    });
    c.reply.text(`↩️ ${r.summary}。`);
  };
}
