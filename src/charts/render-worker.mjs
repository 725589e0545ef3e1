// Worker-thread entry for chart rendering (see render-pool.ts). Plain JS so it starts
// the same way everywhere. Built (dist/, `node dist/server.js`): the compiled renderer
// sits beside it as render.js and is imported as it is, no tsx needed. From the sources
// (the tsx CLI, `node --import tsx`, vitest): there is no render.js next to render.ts, so
// it registers tsx itself and imports the TypeScript renderer.
import { existsSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

const compiled = new URL('./render.js', import.meta.url);
let renderPng;
if (existsSync(compiled)) {
  ({ renderPng } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ renderPng } = await import('./render.ts'));
}

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
