import type * as lark from '@larksuiteoapi/node-sdk';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { createMetrics, knowledgeMetrics, type Metrics } from './metrics.js';
import { larkCardKit } from './bot/cardkit.js';
import { Dispatcher } from './bot/dispatcher.js';
import { EventIntake } from './bot/intake.js';
import { createLarkClient, fetchBotOpenId } from './bot/lark-client.js';
import { LarkTransport } from './bot/lark-transport.js';
import { LogTransport } from './bot/log-transport.js';
import { Outbox } from './bot/outbox.js';
import { OutboxWorker } from './bot/outbox-worker.js';
import type { Transport } from './bot/transport.js';
import { startWsReceiver, type WsReceiver } from './bot/ws-receiver.js';
import { adminListResolver, type ActorResolver } from './handlers/actor.js';
import { botAddedHandler } from './handlers/bot-added.js';
import { createCardActionHandler, type CardActionHandler } from './handlers/card-action.js';
import { CommandRouter } from './handlers/command-router.js';
import { createMessageHandler } from './handlers/message-receive.js';
import { createFeedbackAction, createQaEntry } from './handlers/qa.js';
import { createKnowledgeService, type KnowledgeAdmin } from './knowledge/service.js';
import { BUNDLED_KNOWLEDGE_DIR, libraryPaths } from './knowledge/library.js';
import type { WorkflowDeps } from './handlers/workflow/services.js';
import { registerWorkflow } from './workflow/register.js';
import { registerReminders, type ReminderSystem } from './workflow/reminders/register.js';
import { registerDigest } from './workflow/digest/register.js';
import { registerContacts, type ContactsSystem } from './workflow/contacts-register.js';
import { missedRemindersFor, planDigestSlot } from './workflow/digest/job.js';
import { larkUploader, noUploads } from './bot/lark-uploads.js';
import { dashboardLink } from './web/dashboard-token.js';
import type { EventHandler } from './bot/dispatcher.js';
import type { Principal } from './workflow/permissions.js';
import type { Db } from './store/db.js';
import { openStoreWithUpgradeBackup } from './store/backup.js';
import { BackupService } from './store/backup-schedule.js';
import { createAuditRepo, type AuditRepo } from './store/audit-repo.js';
import { createOutboxRepo, type OutboxRepo } from './store/outbox-repo.js';
import { createReceivedEventsRepo, type ReceivedEventsRepo } from './store/received-events-repo.js';

/** Questions of different kinds (time, count, who, may) that warm the question path at start. */
const WARM_UP_QUESTIONS = ['选民名单什么时候公布？', '村委会每届任期几年？', '候选人需要什么条件？', '选举委员会由几人组成？', '外出的选民能委托别人投票吗？', '换届前要和哪些人谈话？'];
const WARM_UP_ROUNDS = 4;

export interface RuntimeOptions {
  config: Config;
  logger: Logger;
  /** Business clock (campaign time); injected by tests. */
  clock?: Clock;
  /** Replace the transport (the CLI chat captures messages instead of sending). */
  transport?: Transport;
  /** Don't start the long-connection client even in ws mode (CLI). */
  noReceiver?: boolean;
  /** Don't start background services such as the scheduler (CLI, tests that tick by hand). */
  noServices?: boolean;
  /** Index the bundled pack and KNOWLEDGE_DIR at start (default true; most tests don't need it). */
  ingestAtStart?: boolean;
  /**
   * Index after start() returns, so the server listens at once (src/server.ts): /readyz is
   * ready when the bundled pack is indexed and lists what KNOWLEDGE_DIR still has pending.
   * Default false: start() returns with the library indexed (CLI chat, tests).
   */
  indexInBackground?: boolean;
  /** Outbox send loop options (tests shorten the poll). */
  worker?: { concurrency?: number; pollMs?: number; maxAttempts?: number; backoffBaseMs?: number };
}

/**
 * Everything the service is made of, wired once: store → repositories →
 * outbox and its sender → dispatcher and handlers → intake. The HTTP app, the
 * CLI chat and the tests all drive this same object.
 */
export class Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly db: Db;
  readonly repos: { events: ReceivedEventsRepo; outbox: OutboxRepo; audit: AuditRepo };
  readonly metrics: Metrics;
  readonly outbox: Outbox;
  readonly worker: OutboxWorker;
  readonly dispatcher: Dispatcher;
  readonly intake: EventIntake;
  readonly commands = new CommandRouter();
  readonly cardActions = new Map<string, CardActionHandler>();
  readonly knowledge: KnowledgeAdmin;
  /** The election plan: roster, stages, talks, risks, structure (src/workflow). */
  readonly workflow: WorkflowDeps;
  /** Reminders and the scheduler that plans them (and the digests). */
  readonly reminders: ReminderSystem;
  /** Online: roster people known by phone/email bound to Lark accounts (issue 14). */
  readonly contacts?: ContactsSystem;
  /** Files sent to the bot (roster workbooks); set by the workflow. */
  fileHandler?: EventHandler;
  readonly larkClient?: lark.Client;
  botOpenId: string | undefined;
  /** Who is who; the roster (src/workflow) replaces the admin-list default with one that knows roles and scopes. */
  actorResolver: ActorResolver;
  private ws?: WsReceiver;
  /** Background services started with the runtime and stopped before it closes (the scheduler). */
  private readonly services: { start(): void; stop(): Promise<void> }[] = [];
  private pruneTimer?: NodeJS.Timeout;
  private started = false;
  private ready = false;
  /** The start-up indexing run; stop() ends it between two files and waits for it. */
  private indexing?: Promise<void>;
  private readonly indexAbort = new AbortController();
  /** The bundled pack has been indexed (or ingestAtStart is off): what readiness waits for. */
  private packIndexed = false;

  constructor(private readonly opts: RuntimeOptions) {
    this.config = opts.config;
    this.logger = opts.logger;
    this.clock = opts.clock ?? systemClock;
    // An upgrade of a database that has data is preceded by a backup into BACKUP_DIR (pre-upgrade-vFROM-to-vTO).
    this.db = openStoreWithUpgradeBackup(this.config, (msg, fields) => this.logger.info(fields, msg));
    this.repos = {
      events: createReceivedEventsRepo(this.db),
      outbox: createOutboxRepo(this.db),
      audit: createAuditRepo(this.db),
    };
    this.metrics = createMetrics({ outboxDepth: () => this.repos.outbox.depth(), handlerQueue: () => this.dispatcher.queued(), defaultMetrics: true });
    if (!this.config.offline) this.larkClient = createLarkClient(this.config, this.logger);
    const transport =
      opts.transport ?? (this.larkClient ? new LarkTransport(this.larkClient) : new LogTransport(this.logger));
    this.worker = new OutboxWorker({
      repo: this.repos.outbox,
      transport,
      logger: this.logger.child({ component: 'outbox' }),
      metrics: this.metrics,
      limits: {
        perAppPerSecond: this.config.sendRatePerApp,
        perAppPerMinute: 1000,
        perKeyPerSecond: this.config.sendRatePerReceiver,
      },
      ...opts.worker,
    });
    this.outbox = new Outbox(this.repos.outbox, systemClock, () => this.worker.notify());
    this.botOpenId = this.config.lark.botOpenId;
    this.actorResolver = adminListResolver(this.config.adminOpenIds);
    this.dispatcher = new Dispatcher({ logger: this.logger, clock: this.clock, metrics: this.metrics });
    this.intake = new EventIntake({
      db: this.db,
      events: this.repos.events,
      outbox: this.repos.outbox,
      onMessages: () => this.worker.notify(),
      dispatcher: this.dispatcher,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
    });
    this.knowledge = createKnowledgeService({ db: this.db, config: this.config, logger: this.logger.child({ component: 'kb' }), metrics: knowledgeMetrics(this.metrics) });
    this.registerHandlers();
    this.workflow = registerWorkflow(this, { qaAvailable: () => true });
    this.reminders = registerReminders(this);
    this.contacts = registerContacts(this);
    this.registerDigests();
    if (!opts.noServices) {
      this.addService(new BackupService({ db: this.db, config: this.config, logger: this.logger.child({ component: 'backup' }), count: (result) => this.metrics.backups.inc({ result }) }));
    }
  }

  /** 日报/逾期/导出 on demand, and the daily digest at DIGEST_TIME, planned by the same scheduler. */
  private registerDigests(): void {
    const uploader = this.larkClient ? larkUploader(this.larkClient, this.logger.child({ component: 'uploads' })) : noUploads;
    const missedReminders = (date: string) => missedRemindersFor(this.reminders.schedule, date);
    const dashboardUrl = (p: Principal) => dashboardLink(this.config, p, this.clock.now());
    registerDigest(this, { uploader, missedReminders, dashboardUrl });
    this.reminders.scheduler.addJob({
      name: 'digest',
      time: this.config.digestTime,
      run: (slot, mode) =>
        planDigestSlot(
          {
            db: this.db,
            ctx: { repos: this.workflow.repos, tz: this.config.tz, clock: this.clock },
            schedule: this.reminders.schedule,
            outbox: this.repos.outbox,
            adminOpenIds: this.config.adminOpenIds,
            uploader,
            logger: this.logger.child({ component: 'digest' }),
            wallNow: () => Date.now(),
            onMessages: () => this.worker.notify(),
            unanswered: (since) => this.knowledge.unanswered(since),
            dashboardUrl,
          },
          slot,
          mode,
        ).then(() => undefined),
    });
  }

  private registerHandlers(): void {
    const resolveActor: ActorResolver = (openId) => this.actorResolver(openId);
    this.dispatcher
      .on(
        'im.message.receive_v1',
        createMessageHandler({
          botOpenId: () => this.botOpenId,
          resolveActor,
          commands: this.commands,
          qa: createQaEntry(this.knowledge, 'chat', this.qaStreaming()),
          qaAvailable: true,
          onFile: (env, ctx) => (this.fileHandler ? this.fileHandler(env, ctx) : Promise.resolve()),
          identify: this.larkClient ? (openId, command) => this.contacts!.sender.identify(openId, command) : undefined,
        }),
      )
      .on('im.chat.member.bot.added_v1', botAddedHandler)
      .on('card.action.trigger', createCardActionHandler(resolveActor, this.cardActions));
    this.cardActions.set('qa_feedback', createFeedbackAction(this.knowledge));
  }

  /** LLM answers streamed into cards (CardKit) when online, sending through Lark, with LARK_CARD_STREAMING on. */
  private qaStreaming() {
    if (!this.larkClient || this.opts.transport || !this.config.llm || !this.config.cardStreaming) return undefined;
    return {
      cardkit: larkCardKit(this.larkClient),
      logger: this.logger.child({ component: 'qa' }),
      count: (outcome: string) => this.metrics.kbCardStream.inc({ outcome }),
    };
  }

  /** The library's folders (src/knowledge/library.ts: the bundled 换届工作指引 and KNOWLEDGE_DIR), as the CLI uses them. */
  knowledgePaths(): string[] {
    const { paths, missing } = libraryPaths(this.config);
    for (const p of missing) this.logger.warn({ path: p }, 'knowledge folder not found; skipped');
    return paths;
  }

  addService(s: { start(): void; stop(): Promise<void> }): void {
    this.services.push(s);
    if (this.started && !this.opts.noServices) s.start();
  }

  /** Starts sending, resumes unfinished work, and (ws mode) opens the long connection. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.worker.start();
    this.intake.resumePending();
    if (this.opts.ingestAtStart ?? true) {
      this.indexing = this.indexLibrary();
      if (!this.opts.indexInBackground) await this.indexing;
    } else this.packIndexed = true;
    this.repos.events.prune(this.clock.now());
    this.pruneTimer = setInterval(() => this.repos.events.prune(this.clock.now()), 3600_000);
    this.pruneTimer.unref();
    if (this.larkClient && !this.botOpenId) {
      try {
        this.botOpenId = await fetchBotOpenId(this.larkClient);
        this.logger.info({ bot_open_id: this.botOpenId }, 'bot identity fetched');
      } catch (e) {
        // Without it, group @-mentions cannot be recognised; p2p still works. Set LARK_BOT_OPEN_ID to avoid this.
        this.logger.error({ err: (e as Error).message }, 'could not fetch the bot open_id (GET /open-apis/bot/v3/info)');
      }
    }
    if (!this.opts.noServices) for (const s of this.services) s.start();
    if (this.config.lark.eventMode === 'ws' && !this.config.offline && !this.opts.noReceiver) {
      this.ws = startWsReceiver(this.config, this.intake, this.logger);
    }
    this.ready = true;
  }

  /**
   * Indexes the library at start: the bundled pack first and a warm-up (readiness waits for
   * both: the pack is ours, small, and what an empty KNOWLEDGE_DIR answers from), then KNOWLEDGE_DIR, file by file;
   * a file that fails is listed in /readyz and never stops the others or the service.
   */
  private async indexLibrary(): Promise<void> {
    const paths = this.knowledgePaths();
    const signal = this.indexAbort.signal;
    const run = async (ps: string[], part: 'pack' | 'knowledge_dir') => {
      if (ps.length === 0 || signal.aborted) return;
      try {
        const report = await this.knowledge.ingestPaths(ps, { signal });
        this.logger.info(
          { part, added: report.added.length, updated: report.updated.length, unchanged: report.unchanged.length, failed: report.failed.length },
          'policy library indexed',
        );
      } catch (e) {
        this.logger.error({ part, err: e instanceof Error ? e.message : String(e) }, 'kb: indexing at start failed');
      }
    };
    await run(paths.filter((p) => p === BUNDLED_KNOWLEDGE_DIR), 'pack');
    await this.warmUp(signal);
    this.packIndexed = true;
    await run(paths.filter((p) => p !== BUNDLED_KNOWLEDGE_DIR), 'knowledge_dir');
  }

  /** Before readiness, as before background indexing: the first questions find a warm path. */
  private async warmUp(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    try {
      this.knowledge.preload();
      if (!this.config.embedding) {
        // Warm the question path (statements, caches, the JIT) before the first events: a cold question costs
        // ~10× a warm one, and a burst of them right after a start makes long loop turns (the first second of
        // tests/faults/load.fault.ts acknowledged at 4× its steady worst). Offline answers are composed too;
        // nothing is logged and no model is called: with a model (or embeddings, a network call) retrieval only.
        const compose = !this.config.llm;
        for (let round = 0; round < WARM_UP_ROUNDS; round++) {
          for (const q of WARM_UP_QUESTIONS) {
            if (signal.aborted) return;
            if (compose) await this.knowledge.answer(q);
            else await this.knowledge.retrieve(q);
          }
          // Between rounds, the loop stays free for /healthz and the webhook's url_verification.
          await new Promise((r) => setImmediate(r));
        }
      }
    } catch (e) {
      this.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'kb: warm-up question failed');
    }
  }

  /** Resolves when the start-up indexing is over (at once when there is none). */
  async indexed(): Promise<void> {
    await this.indexing;
  }

  /** The bundled pack is indexed and the index loaded: questions can be answered. */
  libraryReady(): boolean {
    return this.packIndexed && this.knowledge.isReady();
  }

  isReady(): boolean {
    return this.ready && this.db.open && this.libraryReady();
  }

  /** Waits until every handler has finished and nothing is due in the outbox (tests, CLI). */
  async idle(): Promise<void> {
    await this.intake.idle();
    await this.worker.idle();
  }

  /** Graceful stop: no new events, in-flight handlers finish, sends in flight finish, then the database closes. */
  async stop(opts: { flushMs?: number } = {}): Promise<void> {
    this.ready = false;
    this.indexAbort.abort();
    await this.indexing?.catch(() => undefined);
    this.ws?.close();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await Promise.all(this.services.map((s) => s.stop()));
    this.intake.stop();
    await this.intake.idle();
    const flushMs = opts.flushMs ?? 5000;
    if (flushMs > 0) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([this.worker.idle(), new Promise((r) => (t = setTimeout(r, flushMs)))]);
      if (t) clearTimeout(t);
    }
    await this.worker.stop();
    if (this.db.open) this.db.close();
  }
}
