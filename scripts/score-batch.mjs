#!/usr/bin/env node
// Scores `kb ask --batch <file> --json` output against a question set (../shared/eval/README.md format),
// strictly and from outside the code under test, so that an old commit can be scored the same way:
//   fact      — not declined, and every must_contain string is in the first 1,500 characters a reader
//               sees (the answer, then each quoted passage as 《title》locator + text);
//   citation  — not declined, and a citation names the item's doc (file name) and, when given, the
//               item's article: an article number (第N条) must be in the citation's locator (a passage
//               that merely mentions 第N条 does not count); any other locator text (the older sets use
//               a phrase of the passage for speeches and lists) in the locator or the passage text;
//   declines  — a `none` item is right when declined; a `fact`/`multi` item is right when answered.
// A declined answer never counts as right for fact or citation.
//
// usage: node scripts/score-batch.mjs <questions.jsonl> <answers.jsonl> [--json] [--verbose]
import { readFileSync } from 'node:fs';

const VISIBLE_CHARS = 1500;

function readJsonl(path) {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l, i) => {
      try {
        return JSON.parse(l);
      } catch {
        throw new Error(`${path}: line ${i + 1} is not JSON`);
      }
    });
}

function visible(a) {
  const parts = [a.answer ?? '', ...(a.citations ?? []).map((c) => `《${c.title}》${c.locator}\n${c.text}`)];
  return Array.from(parts.join('\n')).slice(0, VISIBLE_CHARS).join('');
}

const ARTICLE = /^第[一二三四五六七八九十百零〇\d]+条$/;

function namesArticle(c, article) {
  if (!article) return true;
  const locator = String(c.locator ?? '');
  return ARTICLE.test(article) ? locator.includes(article) : locator.includes(article) || String(c.text ?? '').includes(article);
}

export function scoreOne(q, a) {
  if (!a) return { id: q.id, kind: q.kind, fact: q.kind === 'none' ? null : false, citation: q.kind === 'none' ? null : false, decline: false, missing: q.must_contain ?? [], noAnswer: true };
  const declined = !!a.abstained;
  if (q.kind === 'none') return { id: q.id, kind: q.kind, fact: null, citation: null, decline: declined, missing: [] };
  const seen = visible(a);
  const must = q.must_contain ?? [];
  const missing = declined ? must : must.filter((m) => !seen.includes(m));
  const citation = !declined && !!q.doc && (a.citations ?? []).some((c) => c.doc === q.doc && namesArticle(c, q.article));
  return { id: q.id, kind: q.kind, fact: !declined && missing.length === 0, citation, decline: !declined, missing, declined };
}

export function summarise(items) {
  const ans = items.filter((i) => i.kind !== 'none');
  const r = (n, d) => (d === 0 ? 1 : n / d);
  return {
    total: items.length,
    answerable: ans.length,
    unanswerable: items.length - ans.length,
    fact: r(ans.filter((i) => i.fact).length, ans.length),
    citation: r(ans.filter((i) => i.citation).length, ans.length),
    declines: r(items.filter((i) => i.decline).length, items.length),
    declinedAnswerable: ans.filter((i) => i.declined).length,
    answeredNone: items.filter((i) => i.kind === 'none' && !i.decline).length,
    items,
  };
}

function main() {
  const args = process.argv.slice(2);
  const files = args.filter((a) => !a.startsWith('--'));
  if (files.length !== 2) {
    process.stderr.write('usage: node scripts/score-batch.mjs <questions.jsonl> <answers.jsonl> [--json] [--verbose]\n');
    process.exit(2);
  }
  const questions = readJsonl(files[0]);
  const answers = new Map(readJsonl(files[1]).map((a) => [String(a.id), a]));
  const s = summarise(questions.map((q) => scoreOne(q, answers.get(String(q.id)))));
  if (args.includes('--json')) return process.stdout.write(JSON.stringify(s) + '\n');
  if (args.includes('--verbose'))
    for (const i of s.items)
      process.stdout.write(`${i.id} ${i.kind} fact=${i.fact ?? '-'} cite=${i.citation ?? '-'} decline=${i.decline ? 'ok' : 'WRONG'}${i.missing.length ? ' 缺：' + i.missing.join('、') : ''}\n`);
  const p = (x) => (x * 100).toFixed(1);
  process.stdout.write(`${s.total} questions (${s.answerable} answerable, ${s.unanswerable} none): fact ${p(s.fact)} / citation ${p(s.citation)} / declines ${p(s.declines)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
