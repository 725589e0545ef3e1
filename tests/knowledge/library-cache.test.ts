import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openTestDb } from '../helpers/store.js';
import { makeService, tempDir } from './helpers.js';

/**
 * The retriever keeps chunk rows and the vocabulary between questions. A library changed by
 * another process (a `kb ingest` from the CLI beside a running service, or another instance)
 * must be seen at the next question, never answered from the old rows — even when SQLite hands
 * the replaced passages' ids to the new ones.
 */
describe('the retriever’s caches follow the library', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('answers from a document another connection replaced, and drops one it removed', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const docs = join(dir, 'docs');
    mkdirSync(docs);
    const file = join(docs, '示范村选举细则.txt');
    const write = (days: string) =>
      writeFileSync(file, `示范村选举细则\n第一条 选民名单应当在选举日${days}日以前公布。\n第二条 候选人名单应当在选举日五日以前公布。\n`);
    write('二十');

    const dbA = openTestDb(join(dir, 'kb.db'));
    const dbB = openTestDb(join(dir, 'kb.db'));
    try {
      const a = makeService(dbA).svc;
      const b = makeService(dbB).svc;
      await a.ingestPaths([docs]);
      const q = '示范村选民名单在选举日前多少日公布？';
      expect((await a.ask(q, { channel: 'cli' })).answer).toContain('二十日');

      write('三十');
      const report = await b.ingestPaths([docs]);
      expect(report.updated).toHaveLength(1);
      const after = await a.ask(q, { channel: 'cli' });
      expect(after.answer).toContain('三十日');
      expect(after.answer).not.toContain('二十日');

      b.removeDocuments('示范村选举细则.txt');
      const gone = await a.retrieve(q);
      expect(gone.passages.map((p) => p.chunk.doc_name)).not.toContain('示范村选举细则.txt');
    } finally {
      dbA.close();
      dbB.close();
    }
  });
});
