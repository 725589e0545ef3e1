import type { EventHandler } from '../bot/dispatcher.js';
import { rosterResolver } from '../handlers/actor.js';
import { checkinSubmitHandler, CHECKIN_ACTION } from '../handlers/workflow/checkin-form.js';
import { workflowCommandWords } from '../handlers/workflow/command-words.js';
import { fileImportHandler, IMPORT_CONFIRM_ACTION, importConfirmHandler } from '../handlers/workflow/file-import.js';
import { menuHandler } from '../handlers/workflow/menu.js';
import { myCommand } from '../handlers/workflow/my-command.js';
import { progressCommand } from '../handlers/workflow/progress-command.js';
import { riskCommand } from '../handlers/workflow/risk-command.js';
import type { WorkflowDeps } from '../handlers/workflow/services.js';
import { structureCommand } from '../handlers/workflow/structure-command.js';
import { talkCommand } from '../handlers/workflow/talk-command.js';
import { undoCommand } from '../handlers/workflow/undo-command.js';
import type { Runtime } from '../runtime.js';
import { createWorkflowRepos } from '../store/workflow-repos.js';
import { checkTemplate, STAGE_TEMPLATES } from './stage-templates.js';

const depsOf = new WeakMap<Runtime, WorkflowDeps>();

/**
 * The one integration point of the election plan: the roster-backed actor
 * resolver, the chat commands, the check-in form's card action, the bot
 * menu, and the handler for workbooks sent in chat (exposed as
 * `rt.fileHandler` for the message handler's onFile hook). Safe to call once
 * per runtime; a second call does nothing.
 */
export function registerWorkflow(rt: Runtime, opts: { qaAvailable?: () => boolean } = {}): WorkflowDeps {
  const existing = depsOf.get(rt);
  if (existing) return existing;
  for (const [type, stages] of Object.entries(STAGE_TEMPLATES)) {
    const problems = checkTemplate(stages);
    if (problems.length) throw new Error(`stage template ${type} is inconsistent: ${problems.join('; ')}`);
  }
  const deps: WorkflowDeps = { repos: createWorkflowRepos(rt.db, rt.repos.audit), tz: rt.config.tz };
  rt.actorResolver = rosterResolver(deps.repos.roster, rt.config.adminOpenIds);
  const resolveActor = (openId: string) => rt.actorResolver(openId);

  rt.commands
    .on('进度', progressCommand(deps, '进度'))
    .on('完成', progressCommand(deps, '完成'))
    .on('我的', myCommand(deps))
    .on('谈话', talkCommand(deps))
    .on('风险', riskCommand(deps))
    .on('结构', structureCommand(deps))
    .on('撤销', undoCommand(deps))
    .useWords(workflowCommandWords(deps.repos, deps.tz, rt.clock)); // names for 您是不是要：… suggestions
  rt.cardActions.set(CHECKIN_ACTION, checkinSubmitHandler(deps));
  rt.dispatcher.on('application.bot.menu_v6', menuHandler(deps, { resolveActor, commands: rt.commands, qaAvailable: opts.qaAvailable ?? (() => false) }));
  // The message handler calls rt.fileHandler for file messages.
  rt.fileHandler = fileImportHandler(deps, { client: () => rt.larkClient, resolveActor });
  rt.cardActions.set(IMPORT_CONFIRM_ACTION, importConfirmHandler(deps, { client: () => rt.larkClient }));

  depsOf.set(rt, deps);
  return deps;
}

/** The file handler registered for a runtime. */
export function workflowFileHandler(rt: Runtime): EventHandler | undefined {
  return rt.fileHandler;
}
