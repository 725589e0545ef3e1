// Worker-thread entry for chart rendering (see render-pool.ts). Plain JS so it
// starts the same way under the tsx CLI, `node --import tsx` and vitest: it
// registers tsx itself, then runs the TypeScript renderer.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { renderPng } = await import('./render.ts');

parentPort.on('message', ({ id, option, width, height }) => {
  try {
    const png = renderPng(option, width, height);
    // Copy into a transferable buffer: the PNG leaves this thread without a second copy.
    const ab = png.buffer.slice(png.byteOffset, png.byteOffset + png.byteLength);
    parentPort.postMessage({ id, png: ab }, [ab]);
  } catch (e) {
    parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
