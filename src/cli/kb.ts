import type { Command } from 'commander';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { readJsonLines } from '../knowledge/jsonl.js';
import { withCliContext } from './context.js';
import { createKnowledgeService, type AnswerResult, type KnowledgeAdmin } from '../knowledge/service.js';
import { readEvalFile, scoreItem, summarize } from '../knowledge/eval.js';
import type { IngestReport } from '../knowledge/ingest.js';
import { EMPTY_LIBRARY_ANSWER, loadLibrary, type LibraryOptions } from '../knowledge/library.js';

/** `--no-pack` on the commands that read the library: measure without the bundled 换届工作指引. */
const NO_PACK = ['--no-pack', '不加载内置《换届工作指引》（只用 KNOWLEDGE_DIR 和已导入的文件，用于对比评测）'] as const;
const library = (opts: { pack?: boolean }): LibraryOptions => ({ bundled: opts.pack !== false });

/** `kb …` commands (SPEC §3.3). Human output in Chinese; --json output one object per line on stdout. */
export function registerKbCommands(program: Command): void {
  const kb = program.command('kb').description('政策问答知识库：导入、提问、调试与评测');

  kb.command('ingest')
    .description('导入文件或文件夹（.txt .md .html .docx .pdf），内容未变的文件自动跳过')
    .argument('<path...>', '文件或文件夹')
    .option('--json', '输出 JSON')
    .action(async (paths: string[], opts: { json?: boolean }) =>
      withKb(async (svc) => {
        const r = await svc.ingestPaths(paths);
        if (opts.json) out(JSON.stringify(r));
        else printIngest(r);
        if (r.failed.length) process.exitCode = 1;
      }),
    );

  kb.command('remove')
    .description('从知识库删除文件（文件名、路径或 kb stats 中的编号）')
    .argument('<doc>', '文件名、路径或编号')
    .action(async (ref: string) =>
      withKb(async (svc) => {
        const docs = svc.removeDocuments(ref);
        for (const d of docs) out(`已删除：${d.name}《${d.title}》（${d.chunk_count} 段）`);
      }),
    );

  kb.command('ask')
    .description('提问；--batch 读取 JSONL 文件（每行 {"id","question"}）批量回答')
    .argument('[question]', '问题')
    .option('--json', '输出 JSON')
    .option('--batch <file>', '批量提问文件（.jsonl）')
    .option(...NO_PACK)
    .action(async (question: string | undefined, opts: { json?: boolean; batch?: string; pack?: boolean }) => {
      // A bad batch file or a missing question is refused before the library is read.
      const items = opts.batch ? readBatch(opts.batch) : undefined;
      if (!items && question === undefined) throw new UserError('请提供问题，例如：kb ask "选民名单要提前多少天公布"');
      await withKb(async (svc) => {
        if (items) {
          for (const it of items) {
            const a = await svc.ask(it.question, { channel: 'cli' });
            out(JSON.stringify(batchLine(it.id, a)));
          }
          return;
        }
        const a = await svc.ask(question!, { channel: 'cli' });
        if (opts.json) out(JSON.stringify(a));
        else out(formatAnswer(a));
      }, library(opts));
    });

  kb.command('stats')
    .description('知识库统计：文件、版本、分段数、提问与反馈')
    .option('--json', '输出 JSON')
    .option(...NO_PACK)
    .action(async (opts: { json?: boolean; pack?: boolean }) =>
      withKb(async (svc) => {
        const s = svc.stats();
        if (opts.json) return out(JSON.stringify(s));
        if (s.chunks === 0) out(EMPTY_LIBRARY_ANSWER);
        out(`文件 ${s.documents} 个（现行 ${s.current}，已被新版本取代 ${s.superseded}），分段 ${s.chunks} 个，向量 ${s.embedded} 个`);
        out(`提问 ${s.questions} 次，未能回答 ${s.abstained} 次；反馈 👍 ${s.feedbackUp} / 👎 ${s.feedbackDown}`);
        for (const d of s.byDocument)
          out(`  ${d.superseded ? '[旧版] ' : ''}${d.name}  《${d.title}》  版本：${d.version ?? '未注明'}  发布：${d.issuer ?? '未注明'}  ${d.shape}  ${d.chunk_count} 段`);
      }, library(opts)),
    );

  kb.command('hits')
    .description('检索调试：列出命中的分段、分数和命中通道')
    .argument('<question>', '问题')
    .option('-n, --limit <n>', '条数', '10')
    .option('--json', '输出 JSON')
    .option(...NO_PACK)
    .action(async (question: string, opts: { limit: string; json?: boolean; pack?: boolean }) =>
      withKb(async (svc) => {
        if (svc.stats().chunks === 0) throw new UserError(EMPTY_LIBRARY_ANSWER, 'not_found');
        const limit = Math.min(Math.max(Number(opts.limit) || 10, 1), 100);
        const r = await svc.retrieve(question, { limit, includeSuperseded: true });
        if (opts.json) {
          out(
            JSON.stringify({
              query: r.query.text,
              concepts: r.query.concepts.map((c) => ({ word: c.word, weight: c.weight, alts: c.alts.map((a) => `${a.token}:${a.via}`) })),
              decision: r.decision,
              passages: r.passages.map((p) => ({
                id: p.chunk.id,
                doc: p.chunk.doc_name,
                locator: p.chunk.locator,
                score: p.score,
                coverage: p.coverage,
                ranks: p.ranks,
                channelScores: p.channelScores,
                matched: p.matched,
                superseded: p.superseded,
              })),
            }),
          );
          return;
        }
        out(`检索词：${r.query.concepts.map((c) => `${c.word}(${c.weight.toFixed(2)}${c.alts.length > 1 ? '→' + c.alts.slice(1).map((a) => a.token).join('/') : ''})`).join(' ')}`);
        out(`判定：${r.decision.abstain ? `不回答（${r.decision.reason}）` : '回答'}，最佳覆盖率 ${r.decision.topCoverage.toFixed(3)}`);
        r.passages.forEach((p, i) => {
          const ch = Object.entries(p.ranks)
            .map(([k, v]) => `${k}#${v}`)
            .join(' ');
          out(
            `${String(i + 1).padStart(2)}. 分数 ${p.score.toFixed(3)} 覆盖 ${p.coverage.toFixed(3)} [${ch}]${p.superseded ? ' [旧版]' : ''} ${p.chunk.doc_name} ${p.chunk.locator}${p.chunk.part ? `#${p.chunk.part}` : ''}\n    命中：${p.matched.join('、') || '—'}\n    ${p.chunk.text.replace(/\n/g, ' ').slice(0, 90)}`,
          );
        });
      }, library(opts)),
    );

  kb.command('eval')
    .description('按题目集评测：事实准确率、引用准确率、拒答准确率')
    .argument('<file>', '题目文件（dev-questions.jsonl 格式）')
    .option('--json', '输出 JSON')
    .option('-v, --verbose', '列出每道题')
    .option(...NO_PACK)
    .action(async (file: string, opts: { json?: boolean; verbose?: boolean; pack?: boolean }) => {
      const items = readEvalFile(file);
      await withKb(async (svc) => {
        if (svc.stats().chunks === 0) throw new UserError(EMPTY_LIBRARY_ANSWER, 'not_found');
        const scores = [];
        for (const it of items) scores.push(scoreItem(it, await svc.answer(it.question)));
        const s = summarize(scores);
        if (opts.json) return out(JSON.stringify(s));
        if (opts.verbose)
          for (const i of s.items)
            out(`${i.id} ${i.kind} fact=${fmt(i.fact)} cite=${fmt(i.citation)} abstain=${i.abstention ? 'ok' : 'WRONG'}${i.missing.length ? ' 缺：' + i.missing.join('、') : ''}`);
        out(`题目 ${s.total} 道（可回答 ${s.answerable}，应拒答 ${s.unanswerable}）`);
        out(`事实准确率 ${pct(s.factAccuracy)}  引用准确率 ${pct(s.citationAccuracy)}  拒答准确率 ${pct(s.abstentionAccuracy)}`);
      }, library(opts));
    });

  kb.command('unanswered')
    .description('未能回答或被点 👎 的问题（供补充资料）')
    .option('--days <n>', '最近几天', '30')
    .option('--json', '输出 JSON')
    .action(async (opts: { days: string; json?: boolean }) =>
      withKb(async (svc) => {
        const days = Number(opts.days);
        if (!Number.isFinite(days) || days <= 0 || days > 3650) throw new UserError('--days 应为 1 到 3650 之间的天数。');
        const rows = svc.unanswered(Date.now() - days * 86_400_000);
        if (opts.json) return rows.forEach((r) => out(JSON.stringify(r)));
        if (rows.length === 0) return out(`最近 ${days} 天没有未回答或被点 👎 的问题。`);
        for (const r of rows)
          out(`#${r.id} ${new Date(r.asked_at).toISOString().slice(0, 16).replace('T', ' ')} ${r.abstained ? '[未回答]' : ''}${r.down_votes ? `[👎${r.down_votes}]` : ''} ${r.question.replace(/\s+/g, ' ').slice(0, 120)}`);
      }),
    );
}

/**
 * Opens the library for one command. With `lib`, the library's folders (the bundled pack and
 * KNOWLEDGE_DIR, src/knowledge/library.ts) are indexed first, as the service does at start, so
 * that `kb ask` answers what the bot would; `kb ingest` / `remove` / `unanswered` leave them be.
 */
async function withKb(fn: (svc: KnowledgeAdmin) => Promise<void>, lib?: LibraryOptions): Promise<void> {
  await withCliContext(async ({ db, config, logger }) => {
    const svc = createKnowledgeService({ db, config, logger });
    if (lib) {
      const r = await loadLibrary(svc, config, logger, lib);
      for (const f of r.failed) process.stderr.write(`${f.message}\n`);
    }
    await fn(svc);
  });
}

function out(s: string): void {
  process.stdout.write(s + '\n');
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const fmt = (b: boolean | null) => (b === null ? '-' : b ? 'ok' : 'WRONG');

function printIngest(r: IngestReport): void {
  out(`新增 ${r.added.length}，更新 ${r.updated.length}，未变跳过 ${r.unchanged.length}，失败 ${r.failed.length}；写入 ${r.chunks} 段，用时 ${Math.round(r.ms)} ms`);
  for (const f of r.failed) process.stderr.write(`${f.message}\n`);
  if (r.skipped.length) out(`未导入（类型不支持或为说明文件）：${r.skipped.map((p) => p.split('/').pop()).join('、')}`);
}

export function formatAnswer(a: AnswerResult): string {
  const lines = [`答：${a.answer}`];
  if (a.citations.length) {
    lines.push('依据：');
    a.citations.forEach((c, i) => {
      lines.push(`[${i + 1}]《${c.title}》${c.locator}${c.version ? `（${c.version}）` : ''} — ${c.doc}`);
      lines.push(...c.text.split('\n').map((l) => `    ${l}`));
    });
  }
  return lines.join('\n');
}

const batchItem = z.object({ id: z.union([z.string(), z.number()]).transform(String), question: z.string() });

/** All lines are validated before any question is asked, so a bad file changes nothing. */
function readBatch(path: string): z.infer<typeof batchItem>[] {
  return readJsonLines(path, '批量提问文件', batchItem, () => '需要 "id" 和 "question" 字段。');
}

function batchLine(id: string, a: AnswerResult) {
  return {
    id,
    answer: a.answer,
    citations: a.citations.map((c) => ({ doc: c.doc, title: c.title, locator: c.locator, text: c.text })),
    abstained: a.abstained,
  };
}
