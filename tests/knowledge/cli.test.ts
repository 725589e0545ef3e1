import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerKbCommands } from '../../src/cli/kb.js';
import { BUNDLED_KNOWLEDGE_DIR, EMPTY_LIBRARY_ANSWER } from '../../src/knowledge/library.js';
import { runTs } from '../helpers/spawn.js';
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
  it('ingests, answers one question per JSON line in batch mode, and reports stats', { timeout: 60_000 }, async () => {
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

  it('refuses a bad batch file before asking anything', { timeout: 60_000 }, async () => {
    await run('ingest', FIXTURES);
    const batch = join(tempDir(), 'bad.jsonl');
    writeFileSync(batch, '{"id":"a","question":"花名册"}\nnot json\n');
    out = [];
    await expect(run('ask', '--batch', batch, '--json')).rejects.toThrow(/第 2 行不是合法的 JSON/);
    expect(out.join('')).toBe('');
    await expect(run('eval', join(tempDir(), 'missing.jsonl'))).rejects.toThrow(/找不到评测题目文件/);
  });
});

/** The real CLI in a child process: a fresh DATA_DIR and its own KNOWLEDGE_DIR, nothing ingested. */
function cli(args: string[], env: { DATA_DIR: string; KNOWLEDGE_DIR: string }, input?: string) {
  return runTs('src/cli/main.ts', args, { env: { ...env, LOG_LEVEL: 'error' }, input, timeoutMs: 120_000 });
}

function freshEnv(files: Record<string, string> = {}) {
  const dir = tempDir();
  const knowledge = join(dir, 'knowledge');
  mkdirSync(knowledge);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(knowledge, name), text);
  return { DATA_DIR: join(dir, 'data'), KNOWLEDGE_DIR: knowledge };
}

// A county rule only KNOWLEDGE_DIR holds (fictional, written for this test).
const COUNTY_RULE = [
  '标题：青禾县村民委员会选举日安排',
  '发文机关：青禾县民政局',
  '版本：2026-01-05',
  '',
  '第一条 本县村民委员会换届选举日统一定为三月十八日。',
  '第二条 选举日因天气等原因需要调整的，由乡镇人民政府报县民政局同意。',
  '第三条 本安排自印发之日起施行。',
].join('\n');

describe('one library for the CLI, the chat and the service (spawned CLI, real SQLite)', () => {
  it('kb ask answers from the bundled 换届工作指引 and KNOWLEDGE_DIR without any kb ingest', async () => {
    const env = freshEnv({ 'qinghe.txt': COUNTY_RULE });
    const pack = await cli(['kb', 'ask', '五必谈是哪五个', '--json'], env);
    expect(pack.code, pack.stderr).toBe(0);
    const a = JSON.parse(pack.stdout);
    expect(a.abstained).toBe(false);
    expect(a.citations.some((c: { doc: string }) => c.doc.endsWith('.md'))).toBe(true);
    expect(a.answer + a.citations.map((c: { text: string }) => c.text).join('')).toContain('返乡回村人才');

    const own = await cli(['kb', 'ask', '本县选举日定在哪天', '--json'], env);
    const b = JSON.parse(own.stdout);
    expect(b.abstained).toBe(false);
    expect(b.citations[0]).toMatchObject({ doc: 'qinghe.txt', locator: '第一条' });

    const stats = JSON.parse((await cli(['kb', 'stats', '--json'], env)).stdout);
    const names = stats.byDocument.map((d: { name: string }) => d.name);
    expect(names).toContain('qinghe.txt');
    expect(names.filter((n: string) => n !== 'qinghe.txt').length).toBeGreaterThan(0);

    // The terminal chat (the same Runtime as the server and the console) cites the same passage.
    const chat = await cli(['chat'], env, '本县选举日定在哪天\n');
    expect(chat.code, chat.stderr).toBe(0);
    expect(chat.stdout).toContain('三月十八日');
    expect(chat.stdout).toContain('青禾县村民委员会选举日安排');
  }, 240_000);

  it('an empty library is reported as empty in kb ask, kb hits, kb stats and kb eval — never as “no basis found”', async () => {
    const env = freshEnv();
    const ask = await cli(['kb', 'ask', '--no-pack', '选民名单提前几天公布', '--json'], env);
    expect(ask.code, ask.stderr).toBe(0);
    expect(JSON.parse(ask.stdout)).toMatchObject({ abstained: true, libraryEmpty: true, answer: EMPTY_LIBRARY_ANSWER, citations: [] });
    const text = await cli(['kb', 'ask', '--no-pack', '选民名单提前几天公布'], env);
    expect(text.stdout).toContain('知识库里还没有任何文件');
    expect(text.stdout).toContain('kb ingest');
    expect(text.stdout).toContain('KNOWLEDGE_DIR');
    expect(text.stdout).not.toContain('没有找到能回答这个问题的依据');
    const hits = await cli(['kb', 'hits', '--no-pack', '选民名单'], env);
    expect(hits.code).toBe(2);
    expect(hits.stderr).toContain('知识库里还没有任何文件');
    expect((await cli(['kb', 'stats', '--no-pack'], env)).stdout).toContain('知识库里还没有任何文件');
    const questions = join(env.KNOWLEDGE_DIR, '..', 'q.jsonl');
    writeFileSync(questions, '{"id":"a","question":"选民名单提前几天公布","doc":"x.txt","article":"第十四条","kind":"fact","must_contain":["二十日"]}\n');
    const ev = await cli(['kb', 'eval', '--no-pack', questions], env);
    expect(ev.code).toBe(2);
    expect(ev.stderr).toContain('知识库里还没有任何文件');
    expect(ev.stderr).not.toMatch(/at .*\.ts:\d+/);
  }, 240_000);

  it('--no-pack leaves the bundled pack out even when KNOWLEDGE_DIR is the pack folder itself', async () => {
    const env = { DATA_DIR: join(tempDir(), 'data'), KNOWLEDGE_DIR: BUNDLED_KNOWLEDGE_DIR };
    const without = JSON.parse((await cli(['kb', 'stats', '--no-pack', '--json'], env)).stdout);
    expect(without.documents).toBe(0);
    const withPack = JSON.parse((await cli(['kb', 'stats', '--json'], env)).stdout);
    expect(withPack.documents).toBeGreaterThan(0);
    expect(withPack.byDocument.every((d: { superseded: boolean }) => !d.superseded)).toBe(true);
  }, 240_000);
});
