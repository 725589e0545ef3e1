import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildAnswerCard } from '../../src/knowledge/answer-card.js';
import { IndexRepo } from '../../src/knowledge/index-repo.js';
import { BUNDLED_KNOWLEDGE_DIR, EMPTY_LIBRARY_ANSWER, libraryPaths, loadLibrary } from '../../src/knowledge/library.js';
import { citedArticles } from '../../src/knowledge/retrieve.js';
import type { Db } from '../../src/store/db.js';
import { freshDb, makeService, silentLogger, tempDir, testConfig } from './helpers.js';

/** The shared corpus next to the checkout (the laws the pack cites); absent in a bare clone. */
const CORPUS = join(BUNDLED_KNOWLEDGE_DIR, '../../shared/corpus');

let db: Db;
let cleanup: () => void;
beforeEach(() => ({ db, cleanup } = freshDb()));
afterEach(() => cleanup());

/** A service whose KNOWLEDGE_DIR is an empty folder: whatever it knows comes from the bundled pack. */
async function packOnly() {
  const { svc } = makeService(db);
  const config = testConfig();
  const report = await loadLibrary(svc, config, silentLogger);
  return { svc, report, config };
}

const passages = () => (db.prepare('SELECT c.text, c.locator FROM kb_chunks c').all() as { text: string; locator: string }[]);

describe('the bundled 换届工作指引 (a fresh clone, offline, nothing ingested)', () => {
  it('is part of every library, whatever KNOWLEDGE_DIR says', { timeout: 60_000 }, async () => {
    const { report, config } = await packOnly();
    expect(report.failed).toEqual([]);
    expect(report.added.length).toBeGreaterThan(0);
    expect(libraryPaths(config).paths[0]).toBe(BUNDLED_KNOWLEDGE_DIR);
    expect(libraryPaths(config, { bundled: false }).paths).not.toContain(BUNDLED_KNOWLEDGE_DIR);
    const docs = new IndexRepo(db).listDocs();
    expect(docs.every((d) => d.authority === 'guide')).toBe(true);
  });

  it('answers each topic of a re-election from the pack alone, every quote naming its source', { timeout: 60_000 }, async () => {
    const { svc } = await packOnly();
    const cases: [topic: string, question: string, fact: string][] = [
      ['五必谈', '五必谈是哪五个', '返乡回村人才'],
      ['四必查', '四必查查什么', '署名举报'],
      ['十严禁', '十严禁禁止哪些行为', '虚假委托'],
      ['负面清单', '刑满释放不满几年不宜当候选人', '五年'],
      ['负面清单', '拒不作出辞职承诺的能当候选人吗', '辞职承诺'],
      ['联审', '候选人资格联审由哪些部门参加', '公安'],
      ['选举程序', '村委会选举的流程先后顺序', '选民登记'],
      ['选民名单', '选民名单提前多少天公布', '二十日前'],
      ['另行选举', '没选满怎么另行选举', '三分之一'],
      ['委托投票', '外出打工的能委托别人投票吗', '近亲属'],
      ['委托投票', '委托投票一个人最多代几个人', '三人'],
      ['罢免', '罢免村委会主任要多少村民联名', '五分之一'],
      ['补选', '补选的村委委员任期到什么时候', '届满'],
      ['离任审计', '离任审计什么时候做', '选举之前'],
      ['离任审计', '没审计能先换届吗', '经济责任审计'],
      ['工作移交', '选完以后多久交接', '十日内'],
      ['一肩挑', '一肩挑是什么意思', '村委会主任'],
      ['村务监督委员会', '村务监督委员会成员谁不能担任', '近亲属'],
      ['任期', '村委会任期几年', '五年'],
      ['党组织换届', '党组织换届能延期多久', '一年'],
    ];
    for (const [topic, q, fact] of cases) {
      const a = await svc.ask(q);
      expect(a.abstained, `${topic}: ${q}`).toBe(false);
      expect(a.answer + a.citations.map((c) => c.text).join(''), `${topic}: ${q}`).toContain(fact);
      expect(a.citations[0]!.text, q).toMatch(/依据：/);
      expect(a.citations[0]!.version).toBe('2026-12-07');
    }
  });

  it('keeps each passage on one point, its 依据 line in the passage itself', { timeout: 60_000 }, async () => {
    await packOnly();
    const all = passages();
    expect(all.length).toBeGreaterThanOrEqual(45);
    for (const p of all) {
      expect(p.text, p.locator).toMatch(/依据：[^。]*[《（]/);
      expect(p.text.length, p.locator).toBeLessThanOrEqual(400);
    }
    // A law is cited by its full title, the form the retriever looks articles up by.
    for (const p of all) for (const m of p.text.matchAll(/《([^》]+法)》/g)) expect(m[1], p.locator).toMatch(/^中华人民共和国/);
  });

  it('an empty library says so in the answer and on the card, instead of “no basis found”', { timeout: 60_000 }, async () => {
    const { svc } = makeService(db);
    await loadLibrary(svc, testConfig(), silentLogger, { bundled: false });
    const a = await svc.ask('选民名单提前多少天公布');
    expect(a).toMatchObject({ abstained: true, libraryEmpty: true, answer: EMPTY_LIBRARY_ANSWER });
    const card = JSON.stringify(buildAnswerCard(a));
    expect(card).toContain('知识库为空');
    expect(card).toContain('kb ingest');
    expect(card).not.toContain('未找到依据');
  });
});

describe.skipIf(!existsSync(CORPUS))('the pack next to the laws it cites (../shared/corpus)', () => {
  it('cites only articles that exist in the corpus texts', { timeout: 60_000 }, async () => {
    const { svc } = await packOnly();
    const r = await svc.ingestPaths([CORPUS]);
    expect(r.failed).toEqual([]);
    const repo = new IndexRepo(db);
    const guide = db.prepare("SELECT c.text, c.locator FROM kb_chunks c JOIN kb_documents d ON d.id = c.doc_id WHERE d.authority = 'guide'").all() as { text: string; locator: string }[];
    let cited = 0;
    for (const p of guide)
      for (const ref of citedArticles(p.text)) {
        cited++;
        expect(repo.articleId(ref.law, ref.article), `${p.locator}: 《${ref.law}》${ref.article}`).not.toBeNull();
      }
    expect(cited).toBeGreaterThanOrEqual(30);
  });

  it('is quoted after the article it restates', { timeout: 60_000 }, async () => {
    const { svc } = await packOnly();
    await svc.ingestPaths([CORPUS]);
    for (const [q, article] of [
      ['选民名单提前多少天公布', '第十四条'],
      ['罢免村委会成员要多少人联名', '第十六条'],
      ['村委会选完多少天内完成工作移交', '第二十条'],
    ] as const) {
      const a = await svc.ask(q);
      expect(a.citations[0], q).toMatchObject({ doc: 'cunmin-weiyuanhui-zuzhifa-2018.txt', locator: article });
      const guideAt = a.citations.findIndex((c) => c.doc === '换届工作指引.md');
      if (guideAt !== -1) expect(guideAt, q).toBeGreaterThan(0);
    }
  });
});

describe('library folders', () => {
  it('names a missing KNOWLEDGE_DIR without failing, and never lists the pack twice', () => {
    const missing = join(tempDir(), 'nope');
    expect(libraryPaths({ knowledgeDir: missing })).toEqual({ paths: [BUNDLED_KNOWLEDGE_DIR], missing: [missing] });
    expect(libraryPaths({ knowledgeDir: BUNDLED_KNOWLEDGE_DIR + '/' }).paths).toEqual([BUNDLED_KNOWLEDGE_DIR]);
  });
});
