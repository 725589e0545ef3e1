import type { Clock } from '../clock.js';
import type { WorkflowRepos } from '../store/workflow-repos.js';
import { todayIn } from './dates.js';
import type { IsoDate } from './types.js';

/** What the domain code needs: the repositories, the campaign time zone and the clock. */
export interface WorkflowContext {
  repos: WorkflowRepos;
  tz: string;
  clock: Clock;
}

export function today(ctx: WorkflowContext): IsoDate {
  return todayIn(ctx.tz, ctx.clock.now());
}
