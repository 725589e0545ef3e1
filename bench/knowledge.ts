import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { analyzeAfterLoad, benchStores, dropBenchDb, mergeSideBySide, openBenchDb, STORE_LABEL, type BenchDb, type BenchStore, type SideBySide } from './store.js';
import { createKnowledgeService } from '../src/knowledge/service.js';
import { IndexRepo } from '../src/knowledge/index-repo.js';
import { collectFiles } from '../src/knowledge/ingest.js';
import { prepareDocument, type PreparedDocument } from '../src/knowledge/document.js';
import { extractFile } from '../src/knowledge/extract.js';
import { normalizeDocumentText } from '../src/knowledge/normalize.js';
import { indexTokens } from '../src/knowledge/tokenize.js';
import { benchKnowledgeSpeed } from './knowledge-speed.js';
import { readEvalFile, scoreItem, summarize, type EvalItem, type EvalSummary } from '../src/knowledge/eval.js';

/**
 * Policy Q&A benchmark. First speed on a 5,000-passage library (bench/knowledge-speed.ts, runs
 * in a fresh clone); then, when ../shared is there, accuracy: the structure-aware FTS5 pipeline against a baseline of fixed
 * 500-character chunks with an in-memory BM25 over the same jieba tokens (quoting the
 * top chunk). Accuracy on ../shared/eval/dev-questions.jsonl over the real corpus;
 * retrieval latency over the corpus replicated to ≥ 20,000 chunks; ingest throughput.
 */
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const CORPUS = resolve(ROOT, '../shared/corpus');
const QUESTIONS = resolve(ROOT, '../shared/eval/dev-questions.jsonl');
const TARGET_CHUNKS = 20_000;
const LATENCY_QUERIES = 600;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// ---- baseline -------------------------------------------------------------
interface BaseChunk {
  doc: string;
  text: string;
  tf: Map<string, number>;
  len: number;
}

class Bm25Baseline {
  chunks: BaseChunk[] = [];
  private postings = new Map<string, number[]>();
  private avgLen = 0;

  add(doc: string, text: string): void {
    for (let i = 0; i < text.length; i += 500) {
      const piece = text.slice(i, i + 500);
      const tf = new Map<string, number>();
      const toks = indexTokens(piece);
      for (const t of toks) tf.set(t, (tf.get(t) ?? 0) + 1);
      const id = this.chunks.length;
      this.chunks.push({ doc, text: piece, tf, len: toks.length });
      for (const t of tf.keys()) {
        const p = this.postings.get(t);
        if (p) p.push(id);
        else this.postings.set(t, [id]);
      }
    }
  }

  finish(): void {
    this.avgLen = this.chunks.reduce((s, c) => s + c.len, 0) / Math.max(1, this.chunks.length);
  }

  search(q: string): BaseChunk | undefined {
    const n = this.chunks.length;
    const scores = new Map<number, number>();
    for (const t of new Set(indexTokens(q))) {
      const p = this.postings.get(t);
      if (!p) continue;
      const idf = Math.log(1 + (n - p.length + 0.5) / (p.length + 0.5));
      for (const id of p) {
        const c = this.chunks[id]!;
        const f = c.tf.get(t)!;
        const s = (idf * f * 2.2) / (f + 1.2 * (0.25 + (0.75 * c.len) / this.avgLen));
        scores.set(id, (scores.get(id) ?? 0) + s);
      }
    }
    let best = -1;
    let bestScore = 0;
    for (const [id, s] of scores) if (s > bestScore) (best = id), (bestScore = s);
    return best >= 0 ? this.chunks[best] : undefined;
  }
}

function baselineAnswer(b: Bm25Baseline, q: string) {
  const top = b.search(q);
  return top
    ? { answer: top.text, citations: [{ doc: top.doc, title: top.doc, version: null, locator: '', text: top.text }], abstained: false }
    : { answer: '', citations: [], abstained: true };
}

// ---- run ------------------------------------------------------------------
export async function benchKnowledge(stores: BenchStore[] = ['sqlite'], side: SideBySide = []): Promise<void> {
  // Speed (issue 15) runs everywhere, a fresh clone included; accuracy needs ../shared.
  await benchKnowledgeSpeed(stores, side);
  if (process.env.BENCH_KB_SPEED_ONLY === '1') return;
  if (!existsSync(CORPUS) || !existsSync(QUESTIONS)) {
    console.log(`[knowledge] 准确率部分跳过：找不到 ${CORPUS} 或 ${QUESTIONS}（需要仓库旁的 ../shared）。`);
    return;
  }
  for (const store of stores) await benchKnowledgeOn(store, side);
}

async function benchKnowledgeOn(store: BenchStore, side: SideBySide): Promise<void> {
  const items: EvalItem[] = readEvalFile(QUESTIONS);
  const dir = mkdtempSync(join(tmpdir(), 'kb-bench-'));
  const logger = createLogger({ logLevel: 'silent' });
  try {
    const config = loadConfig({ DATA_DIR: dir, KNOWLEDGE_DIR: dir });
    const { files } = collectFiles([CORPUS]);
    const corpusChars = files.reduce((s, f) => s + readFileSync(f, 'utf8').length, 0);

    // Structure-aware pipeline: ingest (extract, normalise, chunk, segment, index).
    const kb: BenchDb = { store, file: join(dir, 'kb.db') };
    const db = openBenchDb(kb, { fresh: true });
    const svc = createKnowledgeService({ db, config, logger });
    let t = performance.now();
    const rep = await svc.ingestPaths([CORPUS]);
    const ingestMs = performance.now() - t;
    const evalOurs = await evaluate(items, (q) => svc.answer(q));

    // Baseline: same normalised text, fixed 500-character chunks, in-memory BM25.
    const base = new Bm25Baseline();
    t = performance.now();
    for (const f of files) {
      const ex = await extractFile(f, readFileSync(f));
      base.add(f.split('/').pop()!, normalizeDocumentText(ex.text));
    }
    base.finish();
    const baseIngestMs = performance.now() - t;
    const evalBase = await evaluate(items, async (q) => baselineAnswer(base, q));

    // Replicate to ≥ 20,000 chunks: each copy is a distinct document (own path and title family).
    const prepared: PreparedDocument[] = [];
    for (const f of files) prepared.push(await prepareDocument(f, readFileSync(f)));
    const perCopy = prepared.reduce((s, d) => s + d.chunks.length, 0);
    const copies = Math.ceil(TARGET_CHUNKS / perCopy);
    const repo = new IndexRepo(db);
    t = performance.now();
    let replicatedChars = 0;
    for (let k = 1; k < copies; k++) {
      for (const d of prepared) {
        repo.replaceDocument({ ...d, path: `${d.path}#${k}`, meta: { ...d.meta, family: `${d.meta.family}#${k}` } }, Date.now());
        replicatedChars += d.chunks.reduce((s, c) => s + c.text.length, 0);
      }
    }
    const replicateMs = performance.now() - t;
    analyzeAfterLoad(db);
    const bigSvc = createKnowledgeService({ db, config, logger });
    const totalChunks = bigSvc.stats().chunks;

    const bigBase = new Bm25Baseline();
    const texts: { doc: string; text: string }[] = [];
    for (const f of files) texts.push({ doc: f.split('/').pop()!, text: normalizeDocumentText((await extractFile(f, readFileSync(f))).text) });
    for (let k = 0; k < copies; k++) for (const x of texts) bigBase.add(`${x.doc}#${k}`, x.text);
    bigBase.finish();

    const queries = Array.from({ length: LATENCY_QUERIES }, (_, i) => items[i % items.length]!.question);
    for (const q of queries.slice(0, 30)) await bigSvc.retrieve(q); // warm-up
    const lat: number[] = [];
    const slowest = new Map<string, number>();
    for (const q of queries) {
      const t0 = performance.now();
      await bigSvc.retrieve(q);
      const ms = performance.now() - t0;
      lat.push(ms);
      slowest.set(q, Math.max(slowest.get(q) ?? 0, ms));
    }
    const baseLat: number[] = [];
    for (const q of queries) {
      const t0 = performance.now();
      bigBase.search(q);
      baseLat.push(performance.now() - t0);
    }
    lat.sort((a, b) => a - b);
    baseLat.sort((a, b) => a - b);
    db.close();

    const rows = [
      {
        name: store === 'sqlite' ? '结构分块 + FTS5 + 覆盖度重排' : '结构分块 + PostgreSQL 全文（同一 BM25）+ 覆盖度重排',
        chunks: `${rep.chunks} / ${totalChunks}`,
        ingest: (corpusChars / ingestMs) * 1000,
        p50: pct(lat, 50),
        p99: pct(lat, 99),
        ev: evalOurs,
      },
      {
        name: '基线：500字定长 + 内存 BM25',
        chunks: `${base.chunks.length} / ${bigBase.chunks.length}`,
        ingest: (corpusChars / baseIngestMs) * 1000,
        p50: pct(baseLat, 50),
        p99: pct(baseLat, 99),
        ev: evalBase,
      },
    ];
    const f1 = (x: number) => x.toFixed(1);
    const f2 = (x: number) => x.toFixed(2);
    const p = (x: number) => `${(x * 100).toFixed(1)}%`;
    mergeSideBySide(side, store, [
      { measure: `policy retrieval p50 / p99 at ${totalChunks} chunks`, target: 'p99 < 15 ms', value: `${f2(rows[0]!.p50)} / ${f2(rows[0]!.p99)} ms` },
      { measure: 'kb eval (dev): fact / citation / abstention', target: '', value: `${p(evalOurs.factAccuracy)} / ${p(evalOurs.citationAccuracy)} / ${p(evalOurs.abstentionAccuracy)}` },
    ]);
    console.log(`\n[knowledge] 政策问答基准 — ${STORE_LABEL[store]}（语料 ${files.length} 个文件，${corpusChars} 字；题目 ${items.length} 道；延迟 ${LATENCY_QUERIES} 次查询）`);
    console.log('| 方案 | 分段数（原始/复制后） | 导入 字/秒 | 检索 p50 ms | 检索 p99 ms | 事实准确率 | 引用准确率 | 拒答准确率 |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of rows)
      console.log(`| ${r.name} | ${r.chunks} | ${Math.round(r.ingest)} | ${f2(r.p50)} | ${f2(r.p99)} | ${p(r.ev.factAccuracy)} | ${p(r.ev.citationAccuracy)} | ${p(r.ev.abstentionAccuracy)} |`);
    const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]];
    console.log(
      `| 比值（本方案/基线） | | ${f2(a.ingest / b.ingest)} | ${f1(a.p50 / b.p50)} | ${f1(a.p99 / b.p99)} | ${f2(a.ev.factAccuracy / Math.max(b.ev.factAccuracy, 1e-9))} | ${f2(a.ev.citationAccuracy / Math.max(b.ev.citationAccuracy, 1e-9))} | ${f2(a.ev.abstentionAccuracy / Math.max(b.ev.abstentionAccuracy, 1e-9))} |`,
    );
    console.log(
      `最慢的问题：${[...slowest].sort((x, y) => y[1] - x[1]).slice(0, 3).map(([q, ms]) => `${q.slice(0, 16)}（${f2(ms)} ms）`).join('；')}`,
    );
    console.log(
      `复制到 ${totalChunks} 段的写入：${Math.round((replicatedChars / replicateMs) * 1000)} 字/秒（分词 + 两个 FTS5 通道 + 事务）；p99 目标 < 15 ms：${a.p99 < 15 ? '达成' : '未达成'}`,
    );
  } finally {
    if (store === 'postgres') dropBenchDb({ store, file: join(dir, 'kb.db') });
    rmSync(dir, { recursive: true, force: true });
  }
}

async function evaluate(items: EvalItem[], answer: (q: string) => Promise<Parameters<typeof scoreItem>[1]>): Promise<EvalSummary> {
  const scores = [];
  for (const it of items) scores.push(scoreItem(it, await answer(it.question)));
  return summarize(scores);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await benchKnowledge(await benchStores());
