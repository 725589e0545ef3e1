import { Worker } from 'node:worker_threads';
import type { EChartsCoreOption } from 'echarts';

/**
 * Chart PNGs rendered on a worker thread. ECharts + resvg take about 0.8 s of
 * CPU per digest chart and some 80 MB of memory once loaded: on the main thread
 * that would stall every webhook acknowledgement while the 9 o'clock digests
 * go out, and keep the memory for the whole day. The worker starts on the
 * first chart, renders one chart at a time, and exits after `idleMs` without
 * work, giving its memory back.
 */
export interface ChartRenderer {
  png(option: EChartsCoreOption, width: number, height: number): Promise<Buffer>;
  close(): Promise<void>;
}

export interface WorkerRendererOptions {
  /** Exit the worker after this long without a chart (default 60 s). */
  idleMs?: number;
  /** Give up on one chart after this long and restart the worker (default 30 s). */
  timeoutMs?: number;
}

interface Pending {
  resolve: (png: Buffer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

type Reply = { id: number; png: ArrayBuffer } | { id: number; error: string };

export function createWorkerRenderer(opts: WorkerRendererOptions = {}): ChartRenderer {
  const idleMs = opts.idleMs ?? 60_000;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let worker: Worker | null = null;
  let idleTimer: NodeJS.Timeout | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  const failAll = (e: Error) => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      pending.delete(id);
      p.reject(e);
    }
  };
  const stop = (w: Worker) => {
    if (worker === w) worker = null;
    void w.terminate();
  };
  const scheduleIdleExit = () => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    if (pending.size || !worker) return;
    // Idle: the worker must not keep a CLI or a test process alive.
    worker.unref();
    const w = worker;
    idleTimer = setTimeout(() => stop(w), idleMs).unref();
  };
  const start = (): Worker => {
    const w = new Worker(new URL('./render-worker.mjs', import.meta.url), { execArgv: [] });
    w.on('message', (r: Reply) => {
      const p = pending.get(r.id);
      if (!p) return;
      pending.delete(r.id);
      clearTimeout(p.timer);
      if ('png' in r) p.resolve(Buffer.from(r.png));
      else p.reject(new Error(r.error));
      scheduleIdleExit();
    });
    w.on('error', (e) => {
      if (worker === w) worker = null;
      failAll(e);
    });
    w.on('exit', (code) => {
      if (worker === w) worker = null;
      if (pending.size) failAll(new Error(`chart worker exited with code ${code}`));
    });
    return w;
  };

  return {
    png(option, width, height) {
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = null;
      if (!worker) worker = start();
      const w = worker;
      w.ref();
      const id = nextId++;
      return new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`chart rendering took longer than ${timeoutMs} ms`));
          // A stuck renderer is replaced; the other charts in its queue fail with it.
          failAll(new Error('chart worker restarted'));
          stop(w);
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        w.postMessage({ id, option, width, height });
      });
    },
    async close() {
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = null;
      failAll(new Error('chart renderer closed'));
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
}

let shared: ChartRenderer | null = null;

/** The process's renderer, started on first use. */
export function chartRenderer(): ChartRenderer {
  return (shared ??= createWorkerRenderer());
}

/** Stops the process's renderer if it was ever started (service shutdown). */
export async function closeChartRenderer(): Promise<void> {
  const r = shared;
  shared = null;
  await r?.close();
}
