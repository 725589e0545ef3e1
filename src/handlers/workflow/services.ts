import type { Clock } from '../../clock.js';
import type { WorkflowRepos } from '../../store/workflow-repos.js';
import type { WorkflowContext } from '../../workflow/context.js';
import { deny, isKnown, loadPrincipal, notInRosterMessage, type Principal } from '../../workflow/permissions.js';
import type { Actor } from '../actor.js';

/** What the workflow handlers share: the repositories and the campaign time zone. */
export interface WorkflowDeps {
  repos: WorkflowRepos;
  tz: string;
}

export function contextFor(deps: WorkflowDeps, clock: Clock): WorkflowContext {
  return { repos: deps.repos, tz: deps.tz, clock };
}

/** The sender as the roster knows them; refused (and audited) when not in the roster. */
export function knownPrincipal(deps: WorkflowDeps, actor: Actor, command: string, clock: Clock): Principal {
  const p = loadPrincipal(deps.repos.roster, actor);
  if (!isKnown(p)) deny(deps.repos.audit, p, command, null, notInRosterMessage(p), clock.now());
  return p;
}
