import { afterEach, describe, expect, it } from 'vitest';
import { createWorkerRenderer, type ChartRenderer } from '../../src/charts/render-pool.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const option = {
  xAxis: { type: 'category', data: ['审计', '资格审查'] },
  yAxis: { type: 'value' },
  series: [{ type: 'bar', data: [3, 1] }],
};

describe('chart rendering on a worker thread', () => {
  let r: ChartRenderer | undefined;
  afterEach(async () => r?.close());

  it('returns a PNG without holding the main thread while it renders', async () => {
    r = createWorkerRenderer();
    let ticks = 0;
    const t = setInterval(() => ticks++, 1);
    const png = await r.png(option, 400, 300);
    clearInterval(t);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    // Rendering in-thread would run to completion before any timer could fire.
    expect(ticks).toBeGreaterThan(0);
  });

  it('renders charts queued together, each to its own caller', async () => {
    r = createWorkerRenderer();
    const [a, b] = await Promise.all([r.png(option, 400, 300), r.png({ ...option, series: [{ type: 'bar', data: [9, 9] }] }, 200, 100)]);
    expect(a.equals(b)).toBe(false);
    expect(a.subarray(0, 8).equals(PNG_SIGNATURE) && b.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  });

  it('starts again after the idle worker has exited', async () => {
    r = createWorkerRenderer({ idleMs: 20 });
    await r.png(option, 400, 300);
    await new Promise((res) => setTimeout(res, 100));
    expect((await r.png(option, 400, 300)).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  });

  it('rejects a chart that cannot be rendered and keeps working', async () => {
    r = createWorkerRenderer();
    await expect(r.png(option, -1, Number.NaN)).rejects.toThrow();
    expect((await r.png(option, 400, 300)).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  });

  it('gives up on a chart that takes too long, then renders the next one on a new worker', async () => {
    r = createWorkerRenderer({ timeoutMs: 1 });
    await expect(r.png(option, 400, 300)).rejects.toThrow(/longer than 1 ms/);
    const ok = createWorkerRenderer();
    try {
      expect((await ok.png(option, 400, 300)).length).toBeGreaterThan(8);
    } finally {
      await ok.close();
    }
  });
});
