import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkDocument, MAX_CHUNK_CHARS } from '../../src/knowledge/chunk.js';
import { prepareDocument } from '../../src/knowledge/document.js';
import { FIXTURES } from './helpers.js';

describe('legal chunking', () => {
  it('makes one chunk per article with its chapter path, items kept inside the article', async () => {
    const f = join(FIXTURES, 'model-election-rules-2018.txt');
    const d = await prepareDocument(f, readFileSync(f));
    expect(d.shape).toBe('legal');
    const locators = d.chunks.map((c) => c.locator);
    expect(locators).toEqual(['题注', '第一条', '第二条', '第三条', '第四条', '第五条', '第六条', '第七条', '第八条']);
    const art5 = d.chunks.find((c) => c.locator === '第五条')!;
    expect(art5.headingPath).toEqual(['第二章 选举准备']);
    expect(art5.text).toContain('（三）没有正在执行的刑罚');
    // Headings are path, never chunks of their own.
    expect(d.chunks.some((c) => /^第.章/.test(c.text))).toBe(false);
    expect(d.meta.version).toBe('2018-06-30 修订');
  });

  it('splits an over-long article at sentence ends and keeps its locator on every part', () => {
    const long = '第九条 ' + Array.from({ length: 30 }, (_, i) => `第${i + 1}项工作应当由选举工作小组按程序办理并公开结果。`).join('');
    const body = `第一章 总则\n第一条 短条。\n第二条 另一条。\n${long}\n第十条 施行。`;
    const { chunks } = chunkDocument(body, '测试办法');
    const parts = chunks.filter((c) => c.locator === '第九条');
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.map((p) => p.part)).toEqual(parts.map((_, i) => i + 1));
    for (const p of parts) expect(p.text.length).toBeLessThanOrEqual(MAX_CHUNK_CHARS);
    expect(parts.map((p) => p.text).join('')).toContain('第30项工作');
  });
});

describe('speech chunking', () => {
  it('makes one chunk per 一是/二是 and 一要/二要 point, under the section heading', async () => {
    const f = join(FIXTURES, 'township-speech.txt');
    const d = await prepareDocument(f, readFileSync(f));
    expect(d.shape).toBe('speech');
    expect(d.meta.title).toBe('在柳河镇村“两委”换届动员会上的讲话');
    const points = d.chunks.filter((c) => c.kind === 'point');
    expect(points.map((p) => p.text.slice(0, 2))).toEqual(['一是', '二是', '三是', '一要', '二要']);
    const audit = points.find((p) => p.text.startsWith('二是'))!;
    expect(audit.headingPath).toEqual(['一、把准备工作做在前面']);
    expect(audit.locator).toBe('一、把准备工作做在前面 › 二是做好离任审计');
    expect(audit.text).toContain('审计报告出来之前');
  });

  it('handles inline headings and points of text flattened onto one line', () => {
    const body = '同志们：今天讲两点。 一、提高站位 这次换届要求高。一是要求高。要实现四个目标。二是标准高。要看能力。 二、压实责任 镇党委负总责。';
    const { chunks } = chunkDocument(
      body
        .replace(/ (?=[一二]、)/g, '\n')
        .replace(/(一、提高站位|二、压实责任) /g, '$1\n'),
      '讲话',
    );
    const p = chunks.find((c) => c.text.startsWith('二是'))!;
    expect(p.headingPath).toEqual(['一、提高站位']);
    expect(chunks.every((c) => c.text.replace(/[\s\p{P}]/gu, '').length > 0)).toBe(true);
  });
});

describe('list chunking', () => {
  it('makes one chunk per item of a negative list and keeps the sentence that introduces it', () => {
    const body = '推选候选人时，有下列情形之一的，不宜确定为候选人：\n一是被判处刑罚未满五年的；\n二是正被立案审查的；\n三是拒不签订承诺书的。\n青禾县换届办\n2024年1月5日';
    const { shape, chunks } = chunkDocument(body, '不宜人选情形');
    expect(shape).toBe('list');
    const items = chunks.filter((c) => c.kind === 'item');
    expect(items.map((i) => i.locator)).toEqual(['第1项', '第2项', '第3项']);
    expect(items[2]!.lead).toBe('推选候选人时，有下列情形之一的，不宜确定为候选人：');
    expect(chunks.at(-1)!.locator).toBe('落款');
  });
});
