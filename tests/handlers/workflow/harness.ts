import { renderMessageText } from '../../../src/bot/card-text.js';
import { localTextMessage } from '../../../src/bot/local-event.js';
import { ManualClock } from '../../../src/clock.js';
import { createWorkflowRepos, type WorkflowRepos } from '../../../src/store/workflow-repos.js';
import { registerWorkflow } from '../../../src/workflow/register.js';
import { sampleCampaign, seedCampaign, type Campaign, type CampaignSpec } from '../../helpers/roster.js';
import { startTestRuntime, type TestEnv } from '../../helpers/test-runtime.js';
import { tableSnapshot } from '../../helpers/snapshot.js';

/** 2026-11-05 10:00 in Asia/Shanghai; the sample campaign votes on 2026-11-28. */
export const NOW = Date.parse('2026-11-05T02:00:00Z');

export interface ChatHarness {
  t: TestEnv;
  clock: ManualClock;
  repos: WorkflowRepos;
  campaign: Campaign;
  /** Sends a line as that person through the real intake and returns the replies as text. */
  say(openId: string, text: string, messageId?: string): Promise<string[]>;
  /** Snapshot of every workflow table and the change log (for "nothing changed" assertions). */
  state(): string;
  auditCount(): number;
  close(): Promise<void>;
}

const TABLES = ['wf_regions', 'wf_people', 'wf_assignments', 'wf_stage_overrides', 'wf_stage_progress', 'wf_talks', 'wf_talk_interviewers', 'wf_risks', 'wf_risk_followups', 'wf_structures', 'wf_changes', 'wf_imports'];

export async function chatHarness(opts: { spec?: CampaignSpec; env?: Record<string, string> } = {}): Promise<ChatHarness> {
  const clock = new ManualClock(NOW);
  const t = await startTestRuntime({ clock, env: opts.env });
  registerWorkflow(t.rt);
  const repos = createWorkflowRepos(t.rt.db, t.rt.repos.audit);
  const campaign = sampleCampaign(opts.spec);
  seedCampaign(repos, campaign);
  let n = 0;
  return {
    t,
    clock,
    repos,
    campaign,
    async say(openId, text, messageId) {
      const env = localTextMessage({ openId, session: `test-${openId}`, text, token: t.rt.config.lark.verificationToken });
      if (messageId) {
        env.messageId = messageId;
        (env.payload.event.message as { message_id: string }).message_id = messageId;
        env.eventId = `ev_${messageId}_${n++}`;
        env.payload.header.event_id = env.eventId;
      }
      const before = t.rt.repos.outbox.maxId();
      await t.rt.intake.receive(env);
      await t.rt.intake.idle();
      return t.rt.repos.outbox
        .listSince(before)
        .filter((r) => r.intent.startsWith(`reply:${env.messageId}:`))
        .map((r) => renderMessageText(r.msg_type, r.content));
    },
    state() {
      return TABLES.map((tb) => tableSnapshot(t.rt.db, tb)).join('\n');
    },
    auditCount() {
      return (t.rt.db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;
    },
    close: () => t.close({ remove: true }),
  };
}
