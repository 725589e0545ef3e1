import type { Clock } from '../../clock.js';
import type { WorkflowRepos } from '../../store/workflow-repos.js';
import { todayIn } from '../../workflow/dates.js';
import type { CommandWords } from '../command-router.js';

/**
 * The roster's names for the command suggester: villages and townships (kept
 * until a region changes: a province has tens of thousands), talk subjects
 * (read when asked), and today in the campaign's time zone.
 */
export function workflowCommandWords(repos: WorkflowRepos, tz: string, clock: Clock): CommandWords {
  let cached: { version: number; villages: string[]; townships: string[] } | undefined;
  const regions = () => {
    const version = repos.roster.regionsVersion();
    if (!cached || cached.version !== version) {
      cached = { version, villages: repos.roster.villages().map((v) => v.name), townships: repos.roster.townships().map((t) => t.name) };
    }
    return cached;
  };
  return {
    villages: () => regions().villages,
    townships: () => regions().townships,
    talkSubjects: () => repos.talks.subjects(),
    today: () => todayIn(tz, clock.now()),
  };
}
