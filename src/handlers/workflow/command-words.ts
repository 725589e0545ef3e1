import type { Clock } from '../../clock.js';
import type { WorkflowRepos } from '../../store/workflow-repos.js';
import { todayIn } from '../../workflow/dates.js';
import type { CommandWords } from '../command-router.js';

/**
 * The roster's names for the command suggester: villages and townships (kept
 * until a region changes: a province has tens of thousands), talk subjects
 * (kept until a talk is added; talks are only ever inserted, so the highest
 * id tells), and today in the campaign's time zone. The same array is
 * returned while nothing changed, which lets the suggester keep its index.
 */
export function workflowCommandWords(repos: WorkflowRepos, tz: string, clock: Clock): CommandWords {
  let cached: { version: number; villages: string[]; townships: string[] } | undefined;
  let talks: { lastId: number | null; subjects: string[] } | undefined;
  const lastTalk = repos.db.prepare('SELECT MAX(id) AS m FROM wf_talks');
  const talkSubjects = () => {
    const lastId = (lastTalk.get() as { m: number | null } | undefined)?.m ?? null;
    if (!talks || talks.lastId !== lastId) talks = { lastId, subjects: repos.talks.subjects() };
    return talks.subjects;
  };
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
    talkSubjects,
    today: () => todayIn(tz, clock.now()),
  };
}
