import { describe, expect, it } from 'vitest';
import { runTs } from '../helpers/spawn.js';
import { tempDir } from '../helpers/test-runtime.js';

describe('npm run cli -- chat', () => {
  it('feeds typed lines through the dispatcher and prints the replies, cards as text', async () => {
    const dir = tempDir();
    const r = await runTs('src/cli/main.ts', ['chat', '--as', '张三'], {
      env: { DATA_DIR: dir, KNOWLEDGE_DIR: dir + '/k' },
      input: '帮助\n\n/进度 城西村\n',
    });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('换届助手 · 使用说明');
    expect(r.stdout).toContain('完成 城西村 资格审查');
    expect(r.stdout).toContain('您不在本次换届工作的人员名单中');
    expect(r.stdout).not.toContain('**');
  }, 60_000);

  it('never hands its messages to Lark, even with credentials set', async () => {
    const dir = tempDir();
    const r = await runTs('src/cli/main.ts', ['chat'], {
      env: { DATA_DIR: dir, LARK_APP_ID: 'cli_a1b2c3d4e5f60718', LARK_APP_SECRET: 'sec_hj_chat_app_secret_0001', LARK_DOMAIN: 'http://127.0.0.1:9' },
      input: '帮助\n',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('使用说明');
  }, 60_000);

  it('stops with a message naming the variable when the configuration is bad', async () => {
    const r = await runTs('src/cli/main.ts', ['chat'], { env: { PORT: 'eighty' }, input: '' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('PORT');
  }, 60_000);
});
