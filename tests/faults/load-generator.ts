/**
 * Load generator for tests/faults/load.fault.ts, run as its own process:
 *
 *   node --import tsx tests/faults/load-generator.ts <plan.json> <results.json>
 *
 * The plan holds the plaintext Lark payloads in send order. Every body is
 * encrypted and signed before the clock starts; then request i is started at
 * t0 + i / rate (open loop: a slow answer never delays the next request),
 * over keep-alive connections (as many as are needed: Lark does not wait for
 * one answer before pushing the next event). Each acknowledgement's latency
 * (request start → full response), status and, for card callbacks, body are
 * written to results.json; a one-line summary goes to stdout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { larkRequest } from '../helpers/lark-sign.js';

export interface LoadPlan {
  /** http://127.0.0.1:<port>/lark/events */
  url: string;
  /** Requests per second. */
  rate: number;
  encryptKey: string;
  requests: { payload: string; encrypt: boolean; keepBody?: boolean }[];
}

export interface LoadResults {
  rate: number;
  sent: number;
  /** Wall time from the first scheduled start to the last answer, ms. */
  elapsedMs: number;
  /** Time the schedule took to start every request, ms (rate check: ≈ sent / rate). */
  scheduleMs: number;
  prebuildMs: number;
  /** Per request, in plan order. status 0 = no HTTP answer (error or 10 s timeout). */
  status: number[];
  /** Request start → last byte of the answer, ms. */
  latencyMs: number[];
  /** Actual start − scheduled start, ms (the generator's own lag). */
  lateMs: number[];
  /** Answer bodies of requests with keepBody. */
  bodies: Record<number, string>;
  errors: Record<number, string>;
  /** The generator's own peak RSS, MB. */
  generatorRssMb: number;
  /** TCP connections the generator had to open. */
  connections: number;
}

const REQUEST_TIMEOUT_MS = 10_000;
/** Signatures older than this are refreshed at send time (the service refuses timestamps 5 min off). */
const RESIGN_AFTER_MS = 200_000;

async function main(): Promise<void> {
  const [planFile, outFile] = process.argv.slice(2);
  if (!planFile || !outFile) throw new Error('usage: load-generator.ts <plan.json> <results.json>');
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as LoadPlan;
  const url = new URL(plan.url);
  const n = plan.requests.length;

  const t = performance.now();
  const built = plan.requests.map((r) => {
    const s = larkRequest(JSON.parse(r.payload), { encryptKey: plan.encryptKey, encrypt: r.encrypt });
    return { body: s.body, headers: { ...s.headers, 'content-length': String(Buffer.byteLength(s.body)) }, signedAt: Date.now(), payload: r.payload };
  });
  const prebuildMs = performance.now() - t;

  const agent = new Agent({ keepAlive: true, maxSockets: 2048, maxFreeSockets: 2048 });
  const status = new Array<number>(n).fill(-1);
  const latencyMs = new Array<number>(n).fill(-1);
  const lateMs = new Array<number>(n).fill(-1);
  const bodies: Record<number, string> = {};
  const errors: Record<number, string> = {};
  let done = 0;
  let peakRss = 0;
  /** TCP connections opened (keep-alive reuses a free one; a new one is opened when none is free). */
  let connections = 0;
  const sockets = new WeakSet<object>();
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 500);

  let finish!: () => void;
  const allDone = new Promise<void>((r) => (finish = r));
  const settle = (i: number, st: number, started: number, err?: string) => {
    if (status[i] !== -1) return;
    status[i] = st;
    latencyMs[i] = performance.now() - started;
    if (err) errors[i] = err;
    if (++done === n) finish();
  };

  const send = (i: number, scheduled: number) => {
    const b = built[i]!;
    if (Date.now() - b.signedAt > RESIGN_AFTER_MS) {
      const s = larkRequest(JSON.parse(b.payload), { encryptKey: plan.encryptKey, encrypt: plan.requests[i]!.encrypt });
      b.body = s.body;
      b.headers = { ...s.headers, 'content-length': String(Buffer.byteLength(s.body)) };
    }
    const started = performance.now();
    lateMs[i] = started - scheduled;
    const keep = plan.requests[i]!.keepBody;
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: b.headers, timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          if (keep) chunks.push(c);
        });
        res.on('end', () => {
          if (keep) bodies[i] = Buffer.concat(chunks).toString('utf8');
          settle(i, res.statusCode ?? 0, started);
        });
        res.on('error', (e) => settle(i, 0, started, e.message));
      },
    );
    req.on('socket', (sock) => {
      if (!sockets.has(sock)) {
        sockets.add(sock);
        connections++;
      }
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => settle(i, 0, started, e.message));
    req.end(b.body);
  };

  // The schedule: every request whose time has come is started; then sleep until the next one is due.
  const interval = 1000 / plan.rate;
  const t0 = performance.now() + 50;
  let next = 0;
  const scheduleDone = new Promise<void>((resolve) => {
    const pump = () => {
      const now = performance.now();
      while (next < n && t0 + next * interval <= now) {
        send(next, t0 + next * interval);
        next++;
      }
      if (next >= n) return resolve();
      const wait = t0 + next * interval - performance.now();
      if (wait >= 1) setTimeout(pump, Math.floor(wait));
      else setImmediate(pump);
    };
    setTimeout(pump, 50);
  });
  await scheduleDone;
  const scheduleMs = performance.now() - t0;
  await allDone;
  const elapsedMs = performance.now() - t0;
  clearInterval(rssTimer);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  agent.destroy();

  const out: LoadResults = {
    rate: plan.rate,
    sent: n,
    elapsedMs,
    scheduleMs,
    prebuildMs,
    status,
    latencyMs,
    lateMs,
    bodies,
    errors,
    generatorRssMb: Math.round(peakRss / 1048576),
    connections,
  };
  writeFileSync(outFile, JSON.stringify(out));
  const sorted = [...latencyMs].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!;
  process.stdout.write(
    JSON.stringify({ sent: n, ok: status.filter((s) => s === 200).length, p50: pct(50), p99: pct(99), max: sorted[n - 1], scheduleMs, elapsedMs, connections }) + '\n',
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(String(e instanceof Error ? e.stack : e) + '\n');
    process.exit(1);
  },
);
