import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { createOutboxRepo } from '../../src/store/outbox-repo.js';
import { FakeLark, type Fault } from '../helpers/fake-lark.js';
import { tempDir } from '../helpers/test-runtime.js';
import { recordResults, rng, SEED, sleep, startService, stopService, waitUntil, type AttackResult, type Service } from './lib.js';

/**
 * Attack 1 (issue 8): kill -9 the real service while it is sending through a
 * flaky Lark, restart it, and check that every message arrived exactly once.
 */
const N = Number(process.env.FAULT_MESSAGES ?? 2000);
const RECEIVERS = 400;
const results: AttackResult[] = [];

afterAll(() => recordResults(inject('faultResultsDir'), 'crash-during-send', results));

describe('fault: crash during sending', () => {
  it(`kill -9 mid-way through ${N} outbox messages, restart: each arrives exactly once`, async () => {
    const started = Date.now();
    const random = rng(SEED);
    const injected = { e500: 0, e429: 0, stall: 0 };
    // ~8 % 5xx, ~4 % 429 (reset 1 s), ~1 % a 2 s stall answered with 504.
    const chaos = (): Fault | undefined => {
      const x = random();
      if (x < 0.08) {
        injected.e500++;
        return { status: 500, body: { code: 1, msg: 'internal error' } };
      }
      if (x < 0.12) {
        injected.e429++;
        return { status: 429, body: { code: 99991400, msg: 'request trigger frequency limit' }, headers: { 'x-ogw-ratelimit-reset': '1' } };
      }
      if (x < 0.13) {
        injected.stall++;
        return { status: 504, delayMs: 2000, body: 'gateway timeout' };
      }
      return undefined;
    };
    const fake = await FakeLark.start({ chaos });
    const dir = tempDir('hj-fault-crash-');
    const dbFile = join(dir, 'huanjie.db');

    // The outbox, written before the service starts (as a crashed planner would have left it).
    const db = openDb(dbFile);
    const repo = createOutboxRepo(db);
    const texts = new Set<string>();
    db.transaction(() => {
      for (let i = 0; i < N; i++) {
        const receiveId = `ou_fault_${String(i % RECEIVERS).padStart(4, '0')}`;
        const text = `fault message #${i}`;
        texts.add(text);
        repo.enqueue({
          uuid: randomUUID(),
          intent: `fault:crash:${i}`,
          receiveIdType: 'open_id',
          receiveId,
          rateKey: receiveId,
          msgType: 'text',
          content: JSON.stringify({ text }),
          createdAt: Date.now(),
        });
      }
    })();
    expect(repo.depth()).toBe(N);
    db.close();

    let svc: Service | undefined;
    try {
      svc = await startService({ dataDir: dir, fake });
      // Kill somewhere between 20 % and 50 % of the way.
      const killAt = Math.floor(N * (0.2 + 0.3 * random()));
      await waitUntil(() => fake.sent.length >= killAt, 120_000, `${killAt} messages before the kill`);
      svc.child.kill('SIGKILL');
      const first = await svc.exited;
      expect(first.signal).toBe('SIGKILL');
      const atKill = fake.sent.length;
      const requestsAtKill = fake.requests.length;
      await sleep(300);

      svc = await startService({ dataDir: dir, fake });
      await waitUntil(() => new Set(fake.sent.map((m) => m.uuid)).size >= N, 300_000, `all ${N} messages`);
      // Let anything still in flight land, so late duplicates would show.
      await sleep(1500);
      const stop = await stopService(svc);
      svc = undefined;
      expect(stop.code).toBe(0);

      // At the fake: exactly once by uuid and by content.
      const byUuid = new Map<string, number>();
      for (const m of fake.sent) byUuid.set(m.uuid ?? '', (byUuid.get(m.uuid ?? '') ?? 0) + 1);
      const byText = new Map<string, number>();
      for (const m of fake.sent) byText.set(String(m.content.text), (byText.get(String(m.content.text)) ?? 0) + 1);
      const missingTexts = [...texts].filter((t) => !byText.has(t));
      const dupTexts = [...byText].filter(([, n]) => n > 1);
      const dupUuids = [...byUuid].filter(([, n]) => n > 1);
      const strangers = [...byText.keys()].filter((t) => !texts.has(t));

      // Raw requests: how many re-sends Lark's uuid dedupe absorbed (200s beyond the first per uuid).
      const ok200 = new Map<string, number>();
      for (const r of fake.requests) if (r.answeredWith === 200) ok200.set(r.uuid ?? '', (ok200.get(r.uuid ?? '') ?? 0) + 1);
      const absorbed = [...ok200.values()].reduce((s, n) => s + (n - 1), 0);
      const noUuid = fake.requests.filter((r) => !r.uuid).length;

      // The database: intact, every row sent.
      const check = openDb(dbFile, { readonly: true });
      const integrity = check.pragma('integrity_check', { simple: true });
      const statuses = check.prepare(`SELECT status, COUNT(*) AS n FROM outbox GROUP BY status`).all() as { status: string; n: number }[];
      const maxAttempts = (check.prepare(`SELECT MAX(attempts) AS n FROM outbox`).get() as { n: number }).n;
      check.close();

      const failures =
        missingTexts.length + dupTexts.length + dupUuids.length + strangers.length + noUuid + (integrity === 'ok' ? 0 : 1) +
        statuses.filter((s) => s.status !== 'sent').reduce((t, s) => t + s.n, 0);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      results.push({
        attack: 'crash during sending (kill -9 + restart, flaky Lark)',
        tries: N,
        failures,
        notes:
          `killed after ${atKill}/${N} delivered (${requestsAtKill} requests); ${fake.requests.length} message requests in all ` +
          `(${injected.e500}×500, ${injected.e429}×429, ${injected.stall}×2 s stall); ` +
          `re-sends absorbed by uuid dedupe: ${absorbed}; max attempts ${maxAttempts}; integrity ${String(integrity)}; ${secs} s`,
      });

      expect(missingTexts, 'messages never delivered').toEqual([]);
      expect(dupTexts, 'same content delivered twice').toEqual([]);
      expect(dupUuids, 'same uuid stored twice at the fake').toEqual([]);
      expect(strangers).toEqual([]);
      expect(noUuid, 'message requests without a uuid').toBe(0);
      expect(fake.sent).toHaveLength(N);
      expect(integrity).toBe('ok');
      expect(statuses).toEqual([{ status: 'sent', n: N }]);
      expect(atKill).toBeGreaterThan(0);
      expect(atKill).toBeLessThan(N);
    } catch (e) {
      if (svc) process.stderr.write(`service output:\n${svc.output().slice(-5000)}\n`);
      if (!results.length) results.push({ attack: 'crash during sending (kill -9 + restart, flaky Lark)', tries: N, failures: 1, notes: String(e).slice(0, 200) });
      throw e;
    } finally {
      if (svc) await stopService(svc, 'SIGKILL');
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
