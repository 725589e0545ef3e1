/**
 * npm run bench: every benchmark, each printing its figures next to a baseline
 * measured in the same run. Targets are reported, never asserted in unit tests.
 */
import { existsSync } from 'node:fs';
import { table } from './lib.js';
import { benchStores, STORE_LABEL, type BenchStore, type SideBySide } from './store.js';
import { benchWebhook } from './webhook.js';

const only = process.argv[2];
console.log(`# 换届助手 benchmarks — ${new Date().toISOString()} — node ${process.version}, ${(await import('node:os')).cpus().length} cores`);

const stores = await benchStores();
const side: SideBySide = [];

if (!only || only === 'webhook') await benchWebhook(stores, side);

if (!only || only === 'knowledge') {
  const path = new URL('./knowledge.ts', import.meta.url);
  if (existsSync(path)) {
    const m = (await import(path.href)) as { benchKnowledge: (stores: BenchStore[], side: SideBySide) => Promise<void> };
    await m.benchKnowledge(stores, side);
  } else {
    console.log('\n## Knowledge: not built yet');
  }
}
if (!only || only === 'digest') await (await import('./digest.js')).benchDigest(stores, side);
if (!only || only === 'reminders') await (await import('./reminders.js')).benchReminders(stores, side);
if (!only || only === 'replies') await (await import('./replies.js')).benchReplies(stores, side);
if (!only || only === 'import') await (await import('./import.js')).benchImport(stores, side);
if (!only || only === 'contacts') await (await import('./contacts.js')).benchContacts(stores, side);

if (side.length && stores.length > 1) {
  console.log('\n## The same figures, side by side');
  console.log(table([['measure', 'target', ...stores.map((s) => STORE_LABEL[s])], ...side.map((r) => [r.measure, r.target, ...stores.map((s) => r.values[s] ?? '—')])]));
}
process.exit(0);
