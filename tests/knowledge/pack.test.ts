import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { freshDb, makeService } from './helpers.js';

const PACK = join(fileURLToPath(new URL('../../knowledge', import.meta.url)));
let db: Db;
let cleanup: () => void;
beforeEach(() => ({ db, cleanup } = freshDb()));
afterEach(() => cleanup());

describe('the bundled knowledge pack (a fresh clone, offline)', () => {
  it('answers the common procedure questions, each quote naming the article it rests on', async () => {
    const { svc } = makeService(db);
    const r = await svc.ingestPaths([PACK]);
    expect(r.failed).toEqual([]);
    const cases: [string, string][] = [
      ['选民名单提前多少天公布', '二十日前'],
      ['哪些人不宜当候选人', '刑满释放'],
      ['一肩挑是什么意思', '村委会主任'],
      ['没审计能先换届吗', '经济责任审计'],
      ['没选满怎么另行选举', '三分之一'],
      ['外出打工的能委托别人投票吗', '近亲属'],
      ['村委会任期几年', '五年'],
      ['选完以后多久交接', '十日内'],
    ];
    for (const [q, fact] of cases) {
      const a = await svc.ask(q);
      expect(a.abstained, q).toBe(false);
      expect(a.answer + a.citations.map((c) => c.text).join(''), q).toContain(fact);
      expect(a.citations[0]!.text, q).toMatch(/依据：/);
      expect(a.citations[0]!.version).toBe('2025-11-20');
    }
  });
});
