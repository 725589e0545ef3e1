import { describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import {
  dropFurniture,
  halfWidthAlnum,
  normalizeDocumentText,
  normalizeQuestion,
  repairFlattenedText,
  stripPinyinAnnotations,
  toSimplified,
} from '../../src/knowledge/normalize.js';
import { decodeText } from '../../src/knowledge/decode.js';
import { readDocMeta, familyOf } from '../../src/knowledge/metadata.js';

describe('normalize', () => {
  it('removes broken pinyin annotations but keeps real brackets', () => {
    expect(stripPinyinAnnotations('村(社區(qū))“兩委”換屆強調(diào)')).toBe('村(社區)“兩委”換屆強調');
    expect(stripPinyinAnnotations('村（社区）和(a)与(ABC)')).toBe('村（社区）和(a)与(ABC)');
  });

  it('converts Traditional text to Simplified, and leaves Simplified text alone', () => {
    expect(toSimplified('兩委換屆選舉工作會議')).toBe('两委换届选举工作会议');
    const simplified = '显著提高选举工作质量，村委会换届';
    expect(toSimplified(simplified)).toBe(simplified);
  });

  it('maps full-width letters, digits and spaces to ASCII', () => {
    expect(halfWidthAlnum('第１２条　ＡＢｃ５０％')).toBe('第12条 ABc50%');
  });

  it('drops site furniture lines and trailing 查看更多', () => {
    const s = dropFurniture('- 2021-05-21 发布 |\n- 37.5 KB |\n- 12页\n正文第一句。查看更多\n第 3 页 / 共 12 页');
    expect(s.trim()).toBe('正文第一句。');
  });

  it('repairs text flattened from a PDF: wrap spaces inside words go, headings get their own line', () => {
    const s = repairFlattenedText('说明如下。 一、统筹谋划,前期工作扎实 近期,省委印发了村(社 区)的意见, 有 35 周岁以下的 2021 05');
    expect(s).toContain('\n一、统筹谋划,前期工作扎实\n近期');
    expect(s).toContain('村(社区)');
    expect(s).toContain('有35周岁以下');
    expect(s).toContain('2021 05');
  });

  it('normalises a whole Traditional page with annotations to searchable Simplified text', () => {
    const out = normalizeDocumentText('全省村(社區(qū))“兩委”換屆工作會議召開,強調(diào)發(fā)揚民主。查看更多');
    expect(out).toBe('全省村（社区）“两委”换届工作会议召开，强调发扬民主。');
  });

  it('caps and cleans questions without throwing on hostile input', () => {
    expect(normalizeQuestion('換屆\u0000\u0007 幾年？')).toBe('换届 几年？');
    expect(Array.from(normalizeQuestion('问'.repeat(10_000))).length).toBe(200);
    expect(normalizeQuestion('')).toBe('');
    expect(normalizeQuestion(undefined as unknown as string)).toBe('');
  });
});

describe('decode', () => {
  it('reads UTF-8 (with or without BOM) and GBK bytes', () => {
    const text = '选民名单应当在选举日前公布';
    expect(decodeText(Buffer.from(text, 'utf8'))).toEqual({ text, encoding: 'utf-8' });
    expect(decodeText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])).text).toBe(text);
    expect(decodeText(iconv.encode(text, 'gbk'))).toEqual({ text, encoding: 'gb18030' });
  });
});

describe('metadata', () => {
  it('reads title, issuer and the latest amendment date of a law', () => {
    const { meta, body } = readDocMeta(
      '标题：青禾县选举办法（2018年修订）\n状态：样例\n\n青禾县选举办法\n2016年3月1日青禾县人民代表大会常务委员会通过\n2018年6月30日青禾县人民代表大会常务委员会修订\n第一条 总则。',
      'x.txt',
    );
    expect(meta.title).toBe('青禾县选举办法（2018年修订）');
    expect(meta.versionDate).toBe('2018-06-30');
    expect(meta.version).toBe('2018-06-30 修订');
    expect(meta.family).toBe(familyOf('青禾县选举办法（2025年修订）'));
    expect(body.startsWith('\n青禾县选举办法')).toBe(true);
  });

  it('takes the signature block of a notice as issuer and date', () => {
    const { meta } = readDocMeta('关于值班的通知\n各村：\n请按时值班。\n石桥镇换届工作领导小组\n2024年4月2日', 'n.txt');
    expect(meta.title).toBe('关于值班的通知');
    expect(meta.issuer).toBe('石桥镇换届工作领导小组');
    expect(meta.versionDate).toBe('2024-04-02');
  });
});
