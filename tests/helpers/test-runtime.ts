import { mkdtempSync, rmSync } from 'node:fs';
import { scaled } from './time-scale.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { storeEnv } from './store.js';
import { createLogger } from '../../src/logger.js';
import { Runtime } from '../../src/runtime.js';
import type { FakeLark } from './fake-lark.js';

export const TEST_ENCRYPT_KEY = 'hj-test-encrypt-key-0001';
export const TEST_VERIFICATION_TOKEN = 'vtok_test_0001';
export const TEST_APP_ID = 'cli_a1b2c3d4e5f60718';
export const TEST_APP_SECRET = 'sec_hj_test_app_secret_0001';

export interface TestEnv {
  rt: Runtime;
  app: FastifyInstance;
  dir: string;
  /** Every log line written, as JSON strings. */
  logs: string[];
  /** Stop the runtime (keeps the data dir unless `remove`). */
  close(opts?: { remove?: boolean }): Promise<void>;
}

export function tempDir(prefix = 'hj-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A real runtime on a real SQLite file in a temp dir, with the real SDK pointed
 * at the fake Lark Open Platform when one is given (offline otherwise).
 */
export async function startTestRuntime(
  opts: { fake?: FakeLark; env?: Record<string, string>; clock?: Clock; dir?: string; start?: boolean; pollMs?: number; ingest?: boolean; services?: boolean } = {},
): Promise<TestEnv> {
  const dir = opts.dir ?? tempDir();
  const env: Record<string, string> = {
    DATA_DIR: dir,
    ...storeEnv(dir),
    KNOWLEDGE_DIR: join(dir, 'knowledge'),
    LARK_VERIFICATION_TOKEN: TEST_VERIFICATION_TOKEN,
    LARK_ENCRYPT_KEY: TEST_ENCRYPT_KEY,
    LOG_LEVEL: 'info',
    ...(opts.fake
      ? { LARK_APP_ID: TEST_APP_ID, LARK_APP_SECRET: TEST_APP_SECRET, LARK_DOMAIN: opts.fake.url }
      : {}),
    ...opts.env,
  };
  const config = loadConfig(env);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger(config, sink);
  const rt = new Runtime({
    config,
    logger,
    clock: opts.clock,
    worker: { pollMs: opts.pollMs ?? 50, backoffBaseMs: 100 },
    ingestAtStart: opts.ingest ?? false,
    // The scheduler's minute tick runs on real time; tests drive it by hand with an injected clock.
    noServices: !(opts.services ?? false),
  });
  const app = await buildApp(rt);
  await app.ready();
  if (opts.start !== false) await rt.start();
  return {
    rt,
    app,
    dir,
    logs,
    async close(o = {}) {
      await app.close();
      await rt.stop({ flushMs: 0 });
      if (o.remove) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `cond` holds (for effects that happen after an acknowledged request). */
export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > scaled(timeoutMs)) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
