/**
 * npm run bench: every benchmark, each printing its figures next to a baseline
 * measured in the same run. Targets are reported, never asserted in unit tests.
 */
import { existsSync } from 'node:fs';
import { benchWebhook } from './webhook.js';

const only = process.argv[2];
console.log(`# 换届助手 benchmarks — ${new Date().toISOString()} — node ${process.version}, ${(await import('node:os')).cpus().length} cores`);

if (!only || only === 'webhook') await benchWebhook();

if (!only || only === 'knowledge') {
  const path = new URL('./knowledge.ts', import.meta.url);
  if (existsSync(path)) {
    const m = (await import(path.href)) as { benchKnowledge: () => Promise<void> };
    await m.benchKnowledge();
  } else {
    console.log('\n## Knowledge: not built yet');
  }
}
if (!only || only === 'digest') await (await import('./digest.js')).benchDigest();
if (!only || only === 'reminders') await (await import('./reminders.js')).benchReminders();

process.exit(0);
