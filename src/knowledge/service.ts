import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../clock.js';
import { UserError } from '../errors.js';
import { decideAbstention, type AbstainDecision } from './abstain.js';
import { ABSTAIN_ANSWER, composeOfflineAnswer } from './answer-offline.js';
import { answerWithModel, createChatModel, LLM_TIMEOUT_MS, type ChatModelLike } from './answer-llm.js';
import { REWRITE_TIMEOUT_MS } from './llm-rewrite.js';
import { prepareAsk } from './ask-context.js';
import { ConversationMemory } from './conversation.js';
import { analyzeQuestion, MAX_QUERY_CHARS } from './query.js';
import type { Citation } from './citation.js';
import { EmbeddingIndex, createEmbeddings } from './embed.js';
import { IndexRepo, type DocRow } from './index-repo.js';
import { EMPTY_LIBRARY_ANSWER } from './library.js';
import { ingestFiles, type IngestReport } from './ingest.js';
import { limitsFromMb } from './ingest-limits.js';
import { IndexingStatus, type IndexingView } from './indexing-status.js';
import { QuestionLog, type UnansweredRow } from './question-log.js';
import { Retriever, type Retrieval } from './retrieve.js';
import { generalIdf, getJieba } from './tokenize.js';

export type { Citation } from './citation.js';
export type { IngestReport } from './ingest.js';

export interface AnswerResult {
  questionId: number;
  question: string;
  answer: string;
  citations: Citation[];
  abstained: boolean;
  mode: 'offline' | 'llm';
  /** A follow-up (那社区呢？) is answered as this question (the previous one with the new part). */
  asked?: string;
  /** The library holds no passage at all: the answer says so (EMPTY_LIBRARY_ANSWER), not “no basis found”. */
  libraryEmpty?: boolean;
}

export interface KnowledgeService {
  /** Index these folders/files (skips unchanged by hash). Called at service start with [config.knowledgeDir]. */
  ingestPaths(paths: string[], opts?: { signal?: AbortSignal }): Promise<IngestReport>;
  ask(question: string, opts?: AskOptions): Promise<AnswerResult>;
  /** Idempotent per (question, voter). */
  recordFeedback(questionId: number, voterOpenId: string, vote: 'up' | 'down'): void;
  /** Index loaded (for /readyz). */
  isReady(): boolean;
  /** Files of the ingest runs under way that are not done yet, and files that failed (for /readyz). */
  indexing(): IndexingView;
}

export interface AskOptions {
  askerOpenId?: string;
  channel?: 'chat' | 'cli' | 'console';
  /** Who asks where (chat + person): the previous question there makes follow-ups whole. */
  conversation?: string;
  /** LLM mode: called with the answer so far, each time a further sentence has passed the grounding check. */
  onDraft?: (text: string) => void;
}

/** Counters the service reports to /metrics (src/metrics.ts). */
export interface KnowledgeMetrics {
  llmRejected(reason: string): void;
  rewrite(outcome: string): void;
}

export interface KnowledgeStats {
  documents: number;
  current: number;
  superseded: number;
  chunks: number;
  embedded: number;
  questions: number;
  abstained: number;
  feedbackUp: number;
  feedbackDown: number;
  byDocument: (Pick<DocRow, 'name' | 'title' | 'version' | 'issuer' | 'shape' | 'chunk_count'> & { superseded: boolean })[];
}

/** The service plus the admin/debug operations the CLI needs. */
export interface KnowledgeAdmin extends KnowledgeService {
  /** The answer `ask` would give, without logging it (evaluation). */
  answer(question: string, opts?: Pick<AskOptions, 'conversation' | 'onDraft'>): Promise<Omit<AnswerResult, 'questionId'> & { topScore: number | null }>;
  retrieve(question: string, opts?: { limit?: number; includeSuperseded?: boolean }): Promise<Retrieval & { decision: AbstainDecision }>;
  removeDocuments(ref: string): DocRow[];
  stats(): KnowledgeStats;
  unanswered(sinceMs: number): UnansweredRow[];
  /** Loads what questions need and ingestion does not (the general-language IDF table, ~80 MB). */
  preload(): void;
}

export interface KnowledgeDeps {
  db: Db;
  config: Config;
  logger: Logger;
  clock?: Clock;
  /** Tests may inject a chat model; otherwise one is built from config.llm. */
  chatModel?: ChatModelLike;
  /** Defaults to LLM_TIMEOUT_MS (15 s); tests shorten it. */
  llmTimeoutMs?: number;
  metrics?: KnowledgeMetrics;
}

/** Hard cap on what is stored of a question (the analysed part is shorter still). */
const MAX_STORED_QUESTION = 2000;

export function createKnowledgeService(deps: KnowledgeDeps): KnowledgeAdmin {
  const { db, config, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const repo = new IndexRepo(db);
  const log = new QuestionLog(db);
  const embedIndex = config.embedding
    ? new EmbeddingIndex(db, createEmbeddings(config.embedding), config.embedding.model, logger)
    : undefined;
  const retriever = new Retriever(repo, embedIndex);
  const chat: ChatModelLike | undefined = deps.chatModel ?? (config.llm ? createChatModel(config.llm) : undefined);
  const memory = new ConversationMemory(clock);

  let ready = false;
  try {
    getJieba();
    const rebuilt = repo.ensureTokenizer();
    if (rebuilt) logger.info({ chunks: rebuilt }, 'kb: domain dictionary changed; chunks re-segmented');
    retriever.vocabulary();
    ready = true;
  } catch (e) {
    logger.error({ err: e instanceof Error ? e.message : String(e) }, 'kb: index could not be loaded');
  }

  async function retrieve(question: string, opts: { limit?: number; includeSuperseded?: boolean } = {}) {
    const r = await retriever.retrieve(question, opts);
    return { ...r, decision: decideAbstention(r.query.concepts.length, r.passages, undefined, r.query.concepts, r.query.text) };
  }

  const limits = limitsFromMb({ file: config.kbLimits?.fileMb, text: config.kbLimits?.textMb, unzipped: config.kbLimits?.unzippedMb });
  const status = new IndexingStatus();

  const service: KnowledgeAdmin = {
    async ingestPaths(paths, opts = {}) {
      const report = await ingestFiles(repo, paths, {
        now: () => clock.now(),
        logger,
        limits,
        signal: opts.signal,
        // Each indexed file is searchable at once, not when the whole run ends (a run may be long).
        progress: status.tracker(() => retriever.invalidate()),
        onIndexed: embedIndex ? async () => void (await embedIndex.backfill()) : undefined,
      });
      if (report.added.length || report.updated.length) {
        retriever.invalidate();
        embedIndex?.invalidate();
      }
      retriever.vocabulary();
      ready = true;
      return report;
    },

    async answer(question, opts = {}) {
      const q = typeof question === 'string' ? question : '';
      let result: Omit<AnswerResult, 'questionId'>;
      let topScore: number | null = null;
      try {
        const ctx = await prepareAsk(q, {
          retrieve: (t) => retrieve(t),
          hasContent: (t) => analyzeQuestion(t, retriever.vocabulary()).concepts.some((c) => !c.answerType),
          memory,
          conversation: opts.conversation,
          chat,
          // The rewrite never waits longer than an answer may.
          rewriteTimeoutMs: Math.min(config.llm?.rewriteTimeoutMs ?? REWRITE_TIMEOUT_MS, deps.llmTimeoutMs ?? LLM_TIMEOUT_MS),
        });
        if (ctx.rewrite) deps.metrics?.rewrite(ctx.rewrite.kind === 'rewritten' ? 'rewritten' : ctx.rewrite.reason);
        const r = ctx.base;
        topScore = r.decision.topCoverage;
        if (r.decision.abstain) {
          result = { question: q, answer: ABSTAIN_ANSWER, citations: [], abstained: true, mode: 'offline' };
        } else {
          const offline = composeOfflineAnswer(r);
          result = { question: q, answer: offline.answer, citations: offline.citations, abstained: false, mode: 'offline' };
          if (chat) {
            const out = await answerWithModel(chat, ctx.asked.slice(0, MAX_QUERY_CHARS), ctx.modelPassages, deps.llmTimeoutMs, { onDraft: opts.onDraft });
            if (out.kind === 'answer') result = { ...result, answer: out.answer, citations: out.citations, mode: 'llm' };
            else if (out.kind === 'declined') result = { question: q, answer: ABSTAIN_ANSWER, citations: [], abstained: true, mode: 'llm' };
            else {
              deps.metrics?.llmRejected(out.code);
              logger.warn({ reason: out.reason }, 'kb: model answer rejected; using the offline answer');
            }
          }
        }
        if (ctx.asked !== q) result = { ...result, asked: ctx.asked };
        if (opts.conversation) memory.remember(opts.conversation, { question: ctx.asked, cited: result.citations.map((c) => `《${c.title}》${c.locator}`) });
      } catch (e) {
        // Retrieval must never take the bot down: an unexpected failure is a logged abstention.
        logger.error({ err: e instanceof Error ? e.message : String(e) }, 'kb: ask failed');
        result = { question: q, answer: ABSTAIN_ANSWER, citations: [], abstained: true, mode: 'offline' };
      }
      // Declined with nothing indexed: say the library is empty (checked only then, the common path pays nothing).
      if (result.abstained && repo.chunkCount() === 0) result = { ...result, answer: EMPTY_LIBRARY_ANSWER, libraryEmpty: true, mode: 'offline' };
      return { ...result, topScore };
    },

    async ask(question, opts = {}) {
      const q = typeof question === 'string' ? question : '';
      const { topScore, ...result } = await service.answer(q, { conversation: opts.conversation, onDraft: opts.onDraft });
      const questionId = log.log({
        askedAt: clock.now(),
        askerOpenId: opts.askerOpenId ?? null,
        channel: opts.channel ?? 'chat',
        question: q.slice(0, MAX_STORED_QUESTION),
        answer: result.answer,
        citations: result.citations,
        abstained: result.abstained,
        topScore,
        mode: result.mode,
      });
      if (result.abstained) logger.info({ questionId, question: q.slice(0, 200) }, 'kb: unanswered question');
      return { questionId, ...result };
    },

    recordFeedback(questionId, voterOpenId, vote) {
      if (!Number.isInteger(questionId) || !log.exists(questionId)) throw new UserError('这条回答已不存在，无法评价。', 'not_found');
      if (typeof voterOpenId !== 'string' || voterOpenId.trim() === '') throw new UserError('无法识别评价人。');
      if (vote !== 'up' && vote !== 'down') throw new UserError('评价只能是“有用”或“没用”。');
      log.vote(questionId, voterOpenId, vote, clock.now());
    },

    isReady: () => ready,

    indexing: () => status.view(),

    // Not at construction: `kb ingest` never asks a question and need not hold the table.
    preload: () => void generalIdf('村'),

    retrieve,

    removeDocuments(ref) {
      const docs = repo.findDocs(ref);
      if (docs.length === 0) throw new UserError(`知识库中没有找到文件「${ref}」（可用文件名、路径或编号，见 kb stats）。`, 'not_found');
      repo.removeDocuments(docs);
      retriever.invalidate();
      embedIndex?.invalidate();
      return docs;
    },

    stats() {
      const docs = repo.listDocs();
      const counts = log.counts();
      const embedded = (db.prepare('SELECT count(*) AS n FROM kb_embeddings').get() as { n: number }).n;
      return {
        documents: docs.length,
        current: docs.filter((d) => d.superseded_by === null).length,
        superseded: docs.filter((d) => d.superseded_by !== null).length,
        chunks: repo.chunkCount(),
        embedded,
        questions: counts.questions,
        abstained: counts.abstained,
        feedbackUp: counts.up,
        feedbackDown: counts.down,
        byDocument: docs.map((d) => ({
          name: d.name,
          title: d.title,
          version: d.version,
          issuer: d.issuer,
          shape: d.shape,
          chunk_count: d.chunk_count,
          superseded: d.superseded_by !== null,
        })),
      };
    },

    unanswered: (since) => log.unanswered(since),
  };
  return service;
}
