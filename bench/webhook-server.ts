/** The service's webhook path in its own process, for bench/webhook.ts. Prints `PORT <n>`. */
import Fastify from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { Runtime } from '../src/runtime.js';

if (process.env.BENCH_NOOP === '1') {
  // The baseline: a Fastify route that parses JSON and answers {} — nothing else.
  const app = Fastify({ logger: false });
  app.post('/lark/events', async () => ({}));
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`PORT ${(app.server.address() as { port: number }).port}\n`);
} else {
  const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
  const rt = new Runtime({ config, logger: createLogger(config) });
  const app = await buildApp(rt);
  await rt.start();
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`PORT ${(app.server.address() as { port: number }).port}\n`);
}
for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => process.exit(0));
