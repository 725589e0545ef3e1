import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { FIXTURES, freshDb, makeService } from './helpers.js';
import { regionFactor, regionOfDocument, regionOfQuestion, NO_REGION } from '../../src/knowledge/region.js';

/**
 * Region and issuer (issue 15, item 4) on two fictional provinces' rules with the same
 * article topics (委托投票, 选民名单) and a fictional national law. Hidden folder: the tests
 * loading the whole fixtures folder do not see it.
 */
const DIR = join(FIXTURES, '.region');
const QINGCHUAN = 'qingchuan-xuanju-banfa.txt';
const BAISHAN = 'baishan-xuanju-banfa.txt';
const NATIONAL = 'national-model-law.txt';

describe('region of documents and questions', () => {
  it('reads a document region from its title or issuer; national law has none', () => {
    expect(regionOfDocument('江苏省村民委员会选举办法', null)).toEqual({ province: '江苏', place: null });
    expect(regionOfDocument('实施办法', '山东省人民代表大会常务委员会').province).toBe('山东');
    expect(regionOfDocument('青川省村民委员会选举办法（2021年修订）', '青川省人民代表大会常务委员会').province).toBe('青川');
    expect(regionOfDocument('中华人民共和国村民委员会组织法（2018年修正）', '全国人民代表大会常务委员会')).toEqual(NO_REGION);
    expect(regionOfDocument('金乡县村和城市社区“两委”换届选举工作领导小组关于严肃“十严禁”换届纪律的通告', null).place).toBe('金乡县');
    expect(regionOfDocument('在社区“两委”换届选举工作会议上的讲话', null)).toEqual(NO_REGION);
  });

  it('reads the region a question names: provinces, 咱XX, the library’s own places and provinces', () => {
    expect(regionOfQuestion('咱浙江有个正式候选人退出了咋补').province).toBe('浙江');
    expect(regionOfQuestion('在江苏省，选民名单提前几天公布').province).toBe('江苏');
    expect(regionOfQuestion('金乡县换届举报电话多少', ['金乡县']).place).toBe('金乡县');
    expect(regionOfQuestion('咱们青川这边委托投票能委托几个人', [], ['青川']).province).toBe('青川');
    expect(regionOfQuestion('选民名单提前几天公布', ['金乡县'], ['青川'])).toEqual(NO_REGION);
  });

  it('prefers the named region, ranks other provinces far down, national law in between', () => {
    const zj = { province: '浙江', place: null };
    const sd = { province: '山东', place: null };
    expect(regionFactor(zj, zj)).toBeGreaterThan(regionFactor(zj, NO_REGION));
    expect(regionFactor(zj, sd)).toBeLessThan(regionFactor(NO_REGION, sd));
    expect(regionFactor(NO_REGION, sd)).toBeLessThan(regionFactor(NO_REGION, NO_REGION));
  });
});

describe('answers with regional rules in the library', () => {
  let db: Db;
  let cleanup: () => void;
  beforeEach(() => ({ db, cleanup } = freshDb()));
  afterEach(() => cleanup());

  async function ready() {
    const { svc } = makeService(db);
    await svc.ingestPaths([join(DIR, QINGCHUAN), join(DIR, BAISHAN), join(DIR, NATIONAL)]);
    return svc;
  }

  it('answers from the named province’s article, never another province’s', async () => {
    const svc = await ready();
    for (const [q, doc, fact] of [
      ['青川省的选民一个人最多能接受几个人的委托投票', QINGCHUAN, '二人'],
      ['咱白山这边一个人最多能替几个人投票', BAISHAN, '三人'],
    ] as const) {
      const a = await svc.ask(q);
      expect(a.abstained, q).toBe(false);
      expect(a.citations[0]!.doc, q).toBe(doc);
      expect(a.citations.some((c) => c.doc === (doc === QINGCHUAN ? BAISHAN : QINGCHUAN)), q).toBe(false);
      // The deciding number comes first, before the citation.
      expect(a.answer.split('依据')[0], q).toContain(fact);
    }
  });

  it('a question naming no region is answered from national law, with a line on local rules', async () => {
    const svc = await ready();
    const a = await svc.ask('选民名单要提前多少天公布');
    expect(a.abstained).toBe(false);
    expect(a.citations[0]!.doc).toBe(NATIONAL);
    expect(a.answer).toContain('二十日前');
    expect(a.answer).toMatch(/各地另有具体规定，如《(青川|白山)省村民委员会选举办法/);
  });

  it('a region without its own rule gets national law and says so', async () => {
    const svc = await ready();
    const a = await svc.ask('江苏的选民名单要提前多少天公布');
    expect(a.abstained).toBe(false);
    expect(a.citations[0]!.doc).toBe(NATIONAL);
    expect(a.answer).toContain('资料库中没有江苏的地方规定');
  });

  it('a local rule the national law does not have answers a question naming no region, marked as local', async () => {
    const svc = await ready();
    const a = await svc.ask('村委会成员连续三个月不履行职责怎么处理');
    expect(a.abstained).toBe(false);
    expect(a.citations[0]!.doc).toBe(BAISHAN);
    expect(a.answer).toContain('以上是白山的地方规定');
  });
});
