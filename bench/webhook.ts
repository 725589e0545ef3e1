import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { larkRequest, type SignedRequest } from '../tests/helpers/lark-sign.js';
import { messageEvent } from '../tests/helpers/events.js';
import { fmt, percentile, post, startServer, table } from './lib.js';
import { benchStoreEnv, dropBenchDb, mergeSideBySide, STORE_LABEL, type BenchStore, type SideBySide } from './store.js';

const KEY = 'bench-encrypt-key';
const TOKEN = 'vtok_test_0001';

function events(n: number, tag: string): SignedRequest[] {
  const out: SignedRequest[] = [];
  for (let i = 0; i < n; i++) {
    const ev = messageEvent({ text: '帮助', eventId: `ev_${tag}_${i}`, messageId: `om_${tag}_${i}`, openId: `ou_b${i % 500}`, chatId: `oc_b${i % 500}` });
    out.push(larkRequest(ev, { encryptKey: KEY, encrypt: true }));
  }
  return out;
}

/** Sends at a fixed rate (open loop) and returns each acknowledgement's latency. */
async function paced(port: number, reqs: SignedRequest[], perSecond: number): Promise<{ lat: number[]; errors: number }> {
  const lat: number[] = [];
  let errors = 0;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < reqs.length; i++) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const r = reqs[i]!;
    pending.push(
      post(port, '/lark/events', r.body, r.headers).then((x) => {
        if (x.status !== 200) errors++;
        lat.push(x.ms);
      }),
    );
  }
  await Promise.all(pending);
  return { lat: lat.sort((a, b) => a - b), errors };
}

/** As fast as `concurrency` connections allow (closed loop): requests per second. */
async function saturate(port: number, reqs: SignedRequest[], concurrency: number): Promise<{ rps: number; errors: number }> {
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < reqs.length) {
        const r = reqs[next++]!;
        const x = await post(port, '/lark/events', r.body, r.headers);
        if (x.status !== 200) errors++;
      }
    }),
  );
  return { rps: (reqs.length * 1000) / (performance.now() - t0), errors };
}

export async function benchWebhook(stores: BenchStore[] = ['sqlite'], side: SideBySide = []): Promise<void> {
  for (const store of stores) await benchWebhookOn(store, side);
}

async function benchWebhookOn(store: BenchStore, side: SideBySide): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hj-bench-'));
  const env = { DATA_DIR: dir, ...benchStoreEnv(store, dir), KNOWLEDGE_DIR: join(dir, 'k'), LARK_ENCRYPT_KEY: KEY, LARK_VERIFICATION_TOKEN: TOKEN };
  const svc = await startServer('bench/webhook-server.ts', env);
  const noop = await startServer('bench/webhook-server.ts', { BENCH_NOOP: '1' });
  try {
    // Warm up both (JIT, connections, SQLite pages).
    await saturate(svc.port, events(500, 'warm'), 16);
    await saturate(noop.port, events(500, 'warmn'), 16);

    const rate = 200;
    const seconds = 10;
    const svcPaced = await paced(svc.port, events(rate * seconds, 'paced'), rate);
    const noopPaced = await paced(noop.port, events(rate * seconds, 'pacedn'), rate);
    const svcSat = await saturate(svc.port, events(6000, 'sat'), 32);
    const noopSat = await saturate(noop.port, events(6000, 'satn'), 32);

    console.log(`\n## Webhook: signed + encrypted im.message.receive_v1 (帮助), ${rate} events/s for ${seconds} s, then saturation with 32 connections — ${STORE_LABEL[store]}`);
    console.log(
      table([
        ['route', 'ack p50 ms', 'ack p99 ms', 'max ms', 'errors', 'saturated req/s'],
        ['POST /lark/events (service)', fmt(percentile(svcPaced.lat, 50)), fmt(percentile(svcPaced.lat, 99)), fmt(svcPaced.lat.at(-1)!), svcPaced.errors + svcSat.errors, fmt(svcSat.rps, 0)],
        ['no-op Fastify route (baseline)', fmt(percentile(noopPaced.lat, 50)), fmt(percentile(noopPaced.lat, 99)), fmt(noopPaced.lat.at(-1)!), noopPaced.errors + noopSat.errors, fmt(noopSat.rps, 0)],
        ['ratio service / baseline', fmt(percentile(svcPaced.lat, 50) / percentile(noopPaced.lat, 50)), fmt(percentile(svcPaced.lat, 99) / percentile(noopPaced.lat, 99)), '', '', fmt(svcSat.rps / noopSat.rps)],
      ]),
    );
    const p99 = percentile(svcPaced.lat, 99);
    mergeSideBySide(side, store, [
      { measure: `webhook ack p50 / p99 at ${rate}/s`, target: 'p99 < 10 ms', value: `${fmt(percentile(svcPaced.lat, 50))} / ${fmt(p99)} ms` },
      { measure: 'webhook saturated req/s (ratio to no-op route)', target: '≥ 0.5', value: `${fmt(svcSat.rps, 0)} (${fmt(svcSat.rps / noopSat.rps)})` },
    ]);
    console.log(
      `targets: p99 < 10 ms at ${rate}/s → ${fmt(p99)} ms ${p99 < 10 ? 'MET' : 'NOT MET'}; ` +
        `throughput ≥ 0.5 × baseline → ${fmt(svcSat.rps / noopSat.rps)} ${svcSat.rps / noopSat.rps >= 0.5 ? 'MET' : 'NOT MET'}`,
    );
  } finally {
    svc.child.kill('SIGTERM');
    noop.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    if (store === 'postgres') dropBenchDb({ store, file: join(dir, 'huanjie.db') });
    rmSync(dir, { recursive: true, force: true });
  }
}
