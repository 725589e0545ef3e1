/**
 * How the grounding check (src/knowledge/grounding.ts) does on real passages, without a
 * real model: for every answerable question of a question set, a stand-in model quotes
 * passage [1]'s sentences verbatim with [1] (a faithful answer, which must pass), and
 * then the same answer with one invention of each kind (an article number, a law title,
 * a changed quantity in Arabic, full-width or Chinese numerals, a negated rule), which
 * must be rejected. Prints the counts per kind.
 *
 *   npx tsx bench/llm-grounding.ts [questions.jsonl] [corpus folder…]
 *   (defaults: ../shared/eval/dev-questions.jsonl, ../shared/corpus)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { openStore } from '../src/store/db.js';
import { createKnowledgeService } from '../src/knowledge/service.js';
import type { ChatModelLike, PromptMessage } from '../src/knowledge/answer-llm.js';
import { checkGrounding, type GroundingSource } from '../src/knowledge/grounding.js';
import { normalizeNumbers } from '../src/knowledge/numerals.js';

const [setPath = '../shared/eval/dev-questions.jsonl', ...corpus] = process.argv.slice(2);
const folders = corpus.length ? corpus : ['../shared/corpus'];

/** Passage blocks of the answer prompt: [n]《title》locator（version）\ntext. */
function passagesOf(messages: PromptMessage[]): GroundingSource[] {
  const human = messages.find((m) => m[0] === 'human')![1];
  const body = human.slice(human.indexOf('【资料】') + 4, human.lastIndexOf('【问题】'));
  return body
    .split(/\n\n(?=\[\d+\]《)/)
    .map((b) => {
      const m = /^\s*\[\d+\]《([^》]*)》([^\n（]*)(?:（([^）]*)）)?\n([\s\S]*)$/.exec(b);
      return m ? { title: m[1], locator: m[2]!.trim(), version: m[3] ?? null, text: m[4]!.trim() } : { text: b };
    });
}

/** A faithful answer: up to two sentences of passage [1], verbatim, each with [1]. */
function faithful(p: GroundingSource): string {
  const sentences = p.text
    .replace(/^第[一二三四五六七八九十百零〇两\d]+条\s*/, '')
    .split(/(?<=[。；！？;!?])/)
    .map((s) => s.trim().replace(/[。；！？;!?]$/, ''))
    .filter((s) => s.length >= 6);
  return sentences.slice(0, 2).map((s) => `${s}[1]。`).join('');
}

const ARABIC_TO_CN = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
function chinese(n: number): string {
  if (n < 10) return ARABIC_TO_CN[n]!;
  if (n < 20) return `十${n % 10 ? ARABIC_TO_CN[n % 10] : ''}`;
  return `${ARABIC_TO_CN[Math.floor(n / 10)]}十${n % 10 ? ARABIC_TO_CN[n % 10] : ''}`;
}

type Kind = 'article' | 'title' | 'quantity_arabic' | 'quantity_fullwidth' | 'quantity_chinese' | 'modality';

/** The answer with one invention of the kind, or null when the answer offers nothing to change. */
function invent(answer: string, kind: Kind): string | null {
  if (kind === 'article') return `依据本法第九十九条，${answer}`;
  if (kind === 'title') return `依据《村民委员会换届选举法》，${answer}`;
  if (kind === 'modality') {
    const flips: [RegExp, string][] = [[/不得/, '可以'], [/应当/, '不必'], [/可以/, '不得'], [/必须/, '不必'], [/禁止/, '允许']];
    for (const [re, to] of flips) if (re.test(answer)) return answer.replace(re, to);
    return null;
  }
  // A quantity: the first number that is a quantity, changed to another value, written the asked way.
  const norm = normalizeNumbers(answer);
  const m = /(?<!第)(\d+)(?=[日天年月岁人名个户次票届])/.exec(norm);
  if (!m) return null;
  const v = Number(m[1]) + 7;
  const written = kind === 'quantity_arabic' ? String(v) : kind === 'quantity_fullwidth' ? String(v).replace(/\d/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0)) : chinese(v).replace(/^二十/, '廿');
  return norm.slice(0, m.index) + written + norm.slice(m.index + m[1]!.length);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'grounding-probe-'));
  const config = loadConfig({ DATA_DIR: dir, KNOWLEDGE_DIR: dir });
  const db = openStore(config);
  const logger = createLogger({ logLevel: 'silent' });
  let prompt: PromptMessage[] = [];
  const capture: ChatModelLike = {
    async invoke(messages) {
      if (messages[0]![1].includes('只能依据')) prompt = messages;
      return { content: '无法回答' };
    },
  };
  const svc = createKnowledgeService({ db, config, logger, chatModel: capture });
  await svc.ingestPaths(folders);
  const questions = readFileSync(setPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; question: string; kind: string });
  const kinds: Kind[] = ['article', 'title', 'quantity_arabic', 'quantity_fullwidth', 'quantity_chinese', 'modality'];
  const tally = { faithful: { n: 0, passed: 0, failures: [] as string[] }, ...Object.fromEntries(kinds.map((k) => [k, { n: 0, caught: 0, missed: [] as string[] }])) } as Record<string, { n: number; passed?: number; caught?: number; failures?: string[]; missed?: string[] }>;
  for (const q of questions.filter((x) => x.kind !== 'none')) {
    prompt = [];
    await svc.answer(q.question);
    if (!prompt.length) continue; // declined before the model
    const sources = passagesOf(prompt);
    const answer = faithful(sources[0]!);
    if (!answer) continue;
    const f = tally.faithful!;
    f.n++;
    const r = checkGrounding(answer, sources);
    if (r.ok) f.passed!++;
    else f.failures!.push(`${q.id} ${r.reason}: ${r.detail}`);
    for (const k of kinds) {
      const bad = invent(answer, k);
      if (!bad) continue;
      const t = tally[k]!;
      t.n++;
      if (!checkGrounding(bad, sources).ok) t.caught!++;
      else t.missed!.push(`${q.id}: ${bad.slice(0, 80)}`);
    }
  }
  console.log(`set ${setPath}, library ${folders.join(' ')}`);
  const f = tally.faithful!;
  console.log(`faithful (verbatim) answers passed: ${f.passed}/${f.n}`);
  for (const x of f.failures!) console.log(`  rejected: ${x}`);
  for (const k of kinds) {
    const t = tally[k]!;
    console.log(`${k}: caught ${t.caught}/${t.n}`);
    for (const x of t.missed!.slice(0, 5)) console.log(`  missed: ${x}`);
  }
  db.close();
  rmSync(dir, { recursive: true, force: true });
}

void main();
