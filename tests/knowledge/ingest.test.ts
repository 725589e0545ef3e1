import { readFileSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { IndexRepo } from '../../src/knowledge/index-repo.js';
import { FIXTURES, buildDocx, buildPdf, fixtureFolder, freshDb, makeService } from './helpers.js';

let db: Db;
let cleanup: () => void;
beforeEach(() => ({ db, cleanup } = freshDb()));
afterEach(() => cleanup());

const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;

describe('ingest', () => {
  it('indexes every supported shape: law, speech, Traditional with pinyin, GBK, html, docx, pdf', async () => {
    const dir = fixtureFolder(['model-election-rules-2018.txt', 'township-speech.txt', 'traditional-briefing.txt', 'notice.html']);
    writeFileSync(join(dir, 'gbk-memo.txt'), iconv.encode('标题：换届选举物资清单\n\n投票箱须在选举前一日由乡镇换届办统一铅封。', 'gbk'));
    writeFileSync(
      join(dir, 'rules.docx'),
      await buildDocx(['流动票箱使用规定', '流动票箱只用于年老体弱、行动不便的选民，须有两名以上工作人员随箱。'], { title: '流动票箱使用规定', creator: '青禾县民政局', modified: '2024-05-01T00:00:00Z' }),
    );
    writeFileSync(join(dir, 'guide.pdf'), buildPdf(['计票工作须知', '计票结束后，监票人应当在计票单上签字确认。'], { title: '计票工作须知' }));
    writeFileSync(join(dir, 'ignored.csv'), 'a,b');
    writeFileSync(join(dir, 'README.md'), '# 说明');

    const { svc } = makeService(db);
    const r = await svc.ingestPaths([dir]);
    expect(r.failed).toEqual([]);
    expect(r.added).toHaveLength(7);
    expect(r.skipped.map((p) => p.split('/').pop()).sort()).toEqual(['README.md', 'ignored.csv']);

    const docs = new IndexRepo(db).listDocs();
    const byName = Object.fromEntries(docs.map((d) => [d.name, d]));
    expect(byName['gbk-memo.txt']!.title).toBe('换届选举物资清单');
    expect(byName['rules.docx']!.title).toBe('流动票箱使用规定');
    expect(byName['rules.docx']!.issuer).toBe('青禾县民政局');
    expect(byName['guide.pdf']!.title).toBe('计票工作须知');
    expect(byName['notice.html']!.title).toBe('石桥镇关于换届期间值班安排的通知');
    expect(byName['notice.html']!.issuer).toBe('石桥镇换届工作领导小组');
    expect(byName['traditional-briefing.txt']!.title).toBe('霞浦村换届选举工作简报');

    const trad = db.prepare("SELECT text FROM kb_chunks c JOIN kb_documents d ON d.id = c.doc_id WHERE d.name = 'traditional-briefing.txt'").all() as { text: string }[];
    const text = trad.map((t) => t.text).join('\n');
    expect(text).toContain('村（社区）“两委”换届选举工作会议');
    expect(text).not.toMatch(/[（(]q[ūu]|區|查看更多/);
    const html = db.prepare("SELECT text FROM kb_chunks c JOIN kb_documents d ON d.id = c.doc_id WHERE d.name = 'notice.html'").all() as { text: string }[];
    expect(html.map((h) => h.text).join('\n')).not.toMatch(/tracker|首页|版权所有/);

    const a = await svc.ask('流动票箱给谁用');
    expect(a.abstained).toBe(false);
    expect(a.citations[0]!.doc).toBe('rules.docx');
    const p = await svc.ask('计票结束后监票人要做什么');
    expect(p.citations[0]!.doc).toBe('guide.pdf');
    expect(p.answer).toContain('签字确认');
    const g = await svc.ask('投票箱什么时候铅封');
    expect(g.citations[0]!.doc).toBe('gbk-memo.txt');
  });

  it('skips unchanged files by hash and replaces a changed file’s chunks in one go', async () => {
    const dir = fixtureFolder(['township-speech.txt']);
    const { svc } = makeService(db);
    await svc.ingestPaths([dir]);
    const before = count('SELECT count(*) AS n FROM kb_chunks');
    const again = await svc.ingestPaths([dir]);
    expect(again.unchanged).toHaveLength(1);
    expect(again.added.length + again.updated.length).toBe(0);

    const f = join(dir, 'township-speech.txt');
    writeFileSync(f, readFileSync(f, 'utf8').replace('本月底前', '下周五前'));
    const changed = await svc.ingestPaths([dir]);
    expect(changed.updated).toEqual([f]);
    expect(count('SELECT count(*) AS n FROM kb_chunks')).toBe(before);
    expect(count("SELECT count(*) AS n FROM kb_chunks WHERE text LIKE '%本月底前%'")).toBe(0);
    expect((await svc.ask('包村干部什么时候要走遍农户')).answer).toContain('下周五前');
  });

  it('refuses an unreadable file by name and leaves the index as it was', async () => {
    const dir = fixtureFolder(['township-speech.txt']);
    const { svc } = makeService(db);
    await svc.ingestPaths([dir]);
    const snapshot = db.prepare('SELECT id, text FROM kb_chunks ORDER BY id').all();
    const f = join(dir, 'township-speech.txt');
    writeFileSync(join(dir, 'broken.docx'), Buffer.from('this is not a zip'));
    writeFileSync(join(dir, 'broken.pdf'), Buffer.from('%PDF-1.4 garbage'));
    const r = await svc.ingestPaths([dir]);
    expect(r.failed.map((x) => x.path.split('/').pop()).sort()).toEqual(['broken.docx', 'broken.pdf']);
    expect(r.failed[0]!.message).toMatch(/无法读取文件「broken\.(docx|pdf)」/);
    expect(db.prepare('SELECT id, text FROM kb_chunks ORDER BY id').all()).toEqual(snapshot);
    expect(count("SELECT count(*) AS n FROM kb_documents WHERE name LIKE 'broken%'")).toBe(0);
    unlinkSync(f);
    await expect(svc.ingestPaths([join(dir, 'nope.txt')])).rejects.toThrow(/找不到路径/);
    await expect(svc.ingestPaths([join(dir, 'broken.docx').replace('.docx', '.exe')])).rejects.toThrow();
  });

  it('removes a document and all its index rows (kb remove)', async () => {
    const dir = fixtureFolder(['township-speech.txt', 'notice.html']);
    const { svc } = makeService(db);
    await svc.ingestPaths([dir]);
    expect(new IndexRepo(db).searchWords(['离任'], 10).length).toBeGreaterThan(0);
    const removed = svc.removeDocuments('township-speech.txt');
    expect(removed).toHaveLength(1);
    expect(count("SELECT count(*) AS n FROM kb_documents WHERE name = 'township-speech.txt'")).toBe(0);
    // Through the repository: the full-text tables differ by store (FTS5 / tsvector).
    expect(new IndexRepo(db).searchWords(['离任'], 10)).toEqual([]);
    expect(() => svc.removeDocuments('township-speech.txt')).toThrow(/没有找到文件/);
    expect((await svc.ask('离任审计报告出来之前能不能启动选举')).abstained).toBe(true);
  });

  it('answers from the newest version of a document and keeps the older one indexed as superseded', async () => {
    const dir = fixtureFolder(['model-election-rules-2018.txt']);
    const { svc } = makeService(db);
    await svc.ingestPaths([dir]);
    const old = await svc.ask('村委会一届干几年');
    expect(old.citations[0]!.version).toBe('2018-06-30 修订');
    expect(old.answer).toContain('三年');

    await svc.ingestPaths([join(FIXTURES, 'model-election-rules-2025.txt')]);
    const stats = svc.stats();
    expect(stats.documents).toBe(2);
    expect(stats.superseded).toBe(1);
    expect(stats.byDocument.find((d) => d.name === 'model-election-rules-2018.txt')!.superseded).toBe(true);
    const now = await svc.ask('村委会一届干几年');
    expect(now.answer).toContain('五年');
    expect(now.citations.every((c) => c.doc === 'model-election-rules-2025.txt')).toBe(true);
    expect(now.citations[0]!.version).toBe('2025-09-15 修订');
    // Text only the old version has is still indexed, but not answered from.
    const hits = await svc.retrieve('录像保存期限', { includeSuperseded: true });
    expect(hits.passages.some((p) => p.superseded && p.chunk.locator === '第七条')).toBe(true);
    expect((await svc.ask('计票录像保存多久')).citations.every((c) => c.doc !== 'model-election-rules-2018.txt')).toBe(true);

    // Removing the newer version brings the older one back.
    svc.removeDocuments('model-election-rules-2025.txt');
    expect((await svc.ask('村委会一届干几年')).answer).toContain('三年');
  });
});
