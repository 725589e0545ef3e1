import { describe, expect, it } from 'vitest';
import { freePort, startTs } from './helpers/spawn.js';
import { tempDir } from './helpers/test-runtime.js';
import { scaled } from './helpers/time-scale.js';

describe('npm start (src/server.ts)', () => {
  it('runs offline with no Lark credentials, serves healthz/readyz, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const child = startTs('src/server.ts', { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: tempDir(), KNOWLEDGE_DIR: tempDir() });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + scaled(30_000);
    let ready = false;
    while (Date.now() < deadline && !ready) {
      try {
        ready = (await fetch(base + '/readyz')).status === 200;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(ready, out).toBe(true);
    expect((await (await fetch(base + '/healthz')).json()) as unknown).toEqual({ status: 'ok' });
    expect(out).toContain('离线模式');
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('已停止');
  }, scaled(60_000));

  it('refuses to start with a bad value, naming the variable', async () => {
    const child = startTs('src/server.ts', { DIGEST_TIME: '8点半', DATA_DIR: tempDir() });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(err).toContain('DIGEST_TIME');
    expect(err.trim().split('\n')).toHaveLength(1);
  }, scaled(60_000));
});
