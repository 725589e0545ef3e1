import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerKbCommands } from '../../src/cli/kb.js';
import { FIXTURES, tempDir } from './helpers.js';

let out: string[];
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  out = [];
  env = { ...process.env };
  process.env.DATA_DIR = tempDir();
  process.env.LOG_LEVEL = 'silent';
  delete process.env.LLM_BASE_URL;
  delete process.env.EMBEDDING_BASE_URL;
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  process.exitCode = undefined;
});
afterEach(() => {
  vi.restoreAllMocks();
  process.env = env;
  process.exitCode = undefined;
});

async function run(...args: string[]) {
  const p = new Command().exitOverride();
  registerKbCommands(p);
  await p.parseAsync(['node', 'cli', 'kb', ...args]);
}

describe('kb CLI', () => {
  it('ingests, answers one question per JSON line in batch mode, and reports stats', async () => {
    await run('ingest', FIXTURES);
    expect(out.join('')).toMatch(/新增 \d+/);
    const batch = join(tempDir(), 'q.jsonl');
    writeFileSync(batch, '{"id":"a","question":"花名册要提前几天张榜"}\n{"id":2,"question":"村干部的工资多少"}\n');
    out = [];
    await run('ask', '--batch', batch, '--json');
    const lines = out.join('').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ id: 'a', abstained: false });
    expect(Object.keys(lines[0].citations[0]).sort()).toEqual(['doc', 'locator', 'text', 'title']);
    expect(lines[1]).toMatchObject({ id: '2', abstained: true, citations: [] });
    out = [];
    await run('hits', '花名册要提前几天张榜', '--json');
    const hits = JSON.parse(out.join(''));
    expect(hits.passages[0].ranks.word).toBeGreaterThan(0);
    out = [];
    await run('stats');
    expect(out.join('')).toContain('[旧版] model-election-rules-2018.txt');
  });

  it('refuses a bad batch file before asking anything', async () => {
    await run('ingest', FIXTURES);
    const batch = join(tempDir(), 'bad.jsonl');
    writeFileSync(batch, '{"id":"a","question":"花名册"}\nnot json\n');
    out = [];
    await expect(run('ask', '--batch', batch, '--json')).rejects.toThrow(/第 2 行不是合法的 JSON/);
    expect(out.join('')).toBe('');
    await expect(run('eval', join(tempDir(), 'missing.jsonl'))).rejects.toThrow(/找不到评测题目文件/);
  });
});
