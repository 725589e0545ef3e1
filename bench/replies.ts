/**
 * Replies during the reminder burst (issue 17, item 6): how long a cadre waits for the answer to
 * 帮助 — from the signed event reaching the service to the reply reaching a fake Lark Open Platform
 * on loopback — while N bulk reminders leave at Lark's real limits (50/s and 1,000/min per app,
 * 5/s per receiver; paced by the service, as Lark would refuse more). Reported next to the same
 * figure with an empty outbox, measured in the same run. Target: p95 ≤ 2 s during the burst.
 *
 *   BENCH_BURST_COUNT=1600   reminders in the burst
 *   BENCH_BURST_REPLIES=20   events sent during it (and when idle), one every 1.5 s
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { Runtime } from '../src/runtime.js';
import { messageEvent } from '../tests/helpers/events.js';
import { FakeLark } from '../tests/helpers/fake-lark.js';
import { larkRequest } from '../tests/helpers/lark-sign.js';
import { fmt, percentile, table } from './lib.js';
import { benchStoreEnv, dropBenchDb, mergeSideBySide, STORE_LABEL, type BenchStore, type SideBySide } from './store.js';

const KEY = 'bench-encrypt-key';
const SPACING_MS = 1500;

/** Sends `n` 帮助 events one every SPACING_MS; returns each one's event → reply-at-the-fake time (ms). */
async function replyLatencies(app: FastifyInstance, fake: FakeLark, n: number, tag: string): Promise<number[]> {
  const waits: Promise<number>[] = [];
  for (let i = 0; i < n; i++) {
    const messageId = `om_${tag}_${i}`;
    const ev = messageEvent({ text: '帮助', eventId: `ev_${tag}_${i}`, messageId, openId: `ou_cadre_${tag}_${i}`, chatId: `oc_${tag}_${i}` });
    const req = larkRequest(ev, { encryptKey: KEY, encrypt: true });
    const t0 = Date.now();
    const res = await app.inject({ method: 'POST', url: '/lark/events', payload: req.body, headers: req.headers });
    if (res.statusCode !== 200) throw new Error(`event answered ${res.statusCode}`);
    waits.push(
      (async () => {
        for (;;) {
          const m = fake.sent.find((s) => s.reply_to === messageId);
          if (m) return m.at - t0;
          await new Promise((r) => setTimeout(r, 5));
        }
      })(),
    );
    await new Promise((r) => setTimeout(r, SPACING_MS));
  }
  return (await Promise.all(waits)).sort((a, b) => a - b);
}

export async function benchReplies(stores: BenchStore[] = ['sqlite'], side: SideBySide = []): Promise<void> {
  for (const store of stores) await benchRepliesOn(store, side);
}

async function benchRepliesOn(store: BenchStore, side: SideBySide): Promise<void> {
  const burst = Number(process.env.BENCH_BURST_COUNT ?? 1600);
  const n = Number(process.env.BENCH_BURST_REPLIES ?? 20);
  console.log(`\n## Replies during a reminder burst — ${STORE_LABEL[store]}`);
  const fake = await FakeLark.start();
  const dir = mkdtempSync(join(tmpdir(), 'hj-bench-replies-'));
  const config = loadConfig({
    DATA_DIR: dir,
    ...benchStoreEnv(store, dir),
    KNOWLEDGE_DIR: join(dir, 'k'),
    LARK_APP_ID: 'cli_a1b2c3d4e5f60718',
    LARK_APP_SECRET: 'bench-secret',
    LARK_DOMAIN: fake.url,
    LARK_BOT_OPEN_ID: fake.botOpenId,
    LARK_ENCRYPT_KEY: KEY,
    LOG_LEVEL: 'silent',
  });
  const rt = new Runtime({ config, logger: createLogger(config, pino.destination('/dev/null')), noServices: true, ingestAtStart: false });
  const app = await buildApp(rt);
  await app.ready();
  await rt.start();
  try {
    const idle = await replyLatencies(app, fake, n, 'idle');
    // The burst: N reminder-sized cards to N people, written as the planner writes a slot (bulk).
    const card = { schema: '2.0', header: { title: { tag: 'plain_text', content: '换届工作提醒' } }, body: { elements: [{ tag: 'markdown', content: '城西村：资格审查 — 🟠 今天到期' }] } };
    const before = fake.sent.length;
    for (let i = 0; i < burst; i++) rt.outbox.enqueue({ intent: `bench:burst:${i}`, to: { type: 'open_id', id: `ou_burst_${i}` }, msgType: 'interactive', content: card });
    while (fake.sent.length - before < 50) await new Promise((r) => setTimeout(r, 20));
    const during = await replyLatencies(app, fake, n, 'burst');
    const sentDuring = fake.sent.length - before - n;
    const row = (xs: number[]) => [`${fmt(percentile(xs, 50) / 1000, 2)} s`, `${fmt(percentile(xs, 95) / 1000, 2)} s`, `${fmt(xs.at(-1)! / 1000, 2)} s`];
    const p95 = percentile(during, 95);
    mergeSideBySide(side, store, [
      { measure: `reply p95 during a burst of ${burst} reminders`, target: '≤ 2 s', value: `${fmt(p95 / 1000, 2)} s (idle ${fmt(percentile(idle, 95) / 1000, 2)} s)` },
    ]);
    console.log(
      table([
        ['event → reply at the fake (帮助)', 'p50', 'p95', 'max', 'target'],
        [`idle (empty outbox), ${n} events`, ...row(idle), ''],
        [`during a burst of ${burst} reminders, ${n} events over ${fmt((n * SPACING_MS) / 1000, 0)} s`, ...row(during), 'p95 ≤ 2 s'],
        [`reminders delivered meanwhile (bulk: ≤ 40/s, ≤ 800/min)`, String(sentDuring), '', '', ''],
      ]),
    );
  } finally {
    await app.close();
    await rt.stop({ flushMs: 0 });
    await fake.close();
    if (store === 'postgres') dropBenchDb({ store, file: join(dir, 'huanjie.db') });
    rmSync(dir, { recursive: true, force: true });
  }
}
