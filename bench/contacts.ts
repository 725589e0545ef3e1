/**
 * Binding a province's roster (issue 14): 60,000 people known by phone only, resolved
 * through the fake Lark's batch_get_id (with the real SDK) by the resolver as the
 * scheduler runs it, tick after tick. The fake enforces Lark's 50 calls/s (429 beyond);
 * the client paces itself below 50/s and 1000/min. Reported: calls, elapsed, the most
 * calls in any 1 s and any 60 s, 429s answered, ticks, and the bound / not-found counts
 * (90 % of the phones are in the fake directory, 5 % hidden from the app, 5 % unknown).
 */
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ManualClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { createLarkClient } from '../src/bot/lark-client.js';
import { larkContacts } from '../src/bot/lark-contacts.js';
import { createLogger } from '../src/logger.js';
import { createAuditRepo } from '../src/store/audit-repo.js';
import { createContactLookupRepo } from '../src/store/contact-lookup-repo.js';
import { createRosterRepo } from '../src/store/roster-repo.js';
import { ContactsResolver } from '../src/workflow/contacts-resolve.js';
import { FakeLark } from '../tests/helpers/fake-lark.js';
import { fmt, table } from './lib.js';
import { analyzeAfterLoad, mergeSideBySide, openBenchDb, STORE_LABEL, type BenchStore, type SideBySide } from './store.js';

const PEOPLE = 60_000;
const LARK_PER_SECOND = 50;
const LARK_PER_MINUTE = 1000;

const phone = (i: number) => String(13_000_000_000 + i);

/** The least time `calls` can take within both limits: whole minutes of 1000, then the rest at 50/s. */
const minSeconds = (calls: number) => Math.floor((calls - 1) / LARK_PER_MINUTE) * 60 + (((calls - 1) % LARK_PER_MINUTE) + 1) / LARK_PER_SECOND;

export async function benchContacts(stores: BenchStore[], side: SideBySide): Promise<void> {
  console.log(`\n## Contacts: ${PEOPLE.toLocaleString()} phones → open_ids through the fake Lark (${LARK_PER_SECOND}/s enforced by the fake, ${LARK_PER_MINUTE}/min by the client)`);
  for (const store of stores) {
    const dir = mkdtempSync(join(tmpdir(), 'hj-bench-contacts-'));
    const fake = await FakeLark.start({ contactRatePerSecond: LARK_PER_SECOND });
    const db = openBenchDb({ store, file: join(dir, 'huanjie.db') }, { fresh: true });
    try {
      const roster = createRosterRepo(db);
      db.transaction(() => {
        const county = roster.ensureRegion('county', null, '第0县').id;
        const town = roster.ensureRegion('township', county, '第0镇').id;
        for (let i = 0; i < PEOPLE; i++) roster.insertPerson({ name: `干部${i}`, openId: null, phone: phone(i), email: null, role: '干部', scopeId: town });
      })();
      analyzeAfterLoad(db);
      for (let i = 0; i < PEOPLE; i++) {
        const r = i % 20;
        if (r === 19) continue; // unknown to Lark
        fake.addUsers({ openId: `ou_bench_${i}`, mobile: phone(i), hidden: r === 18 });
      }
      const config = loadConfig({ DATA_DIR: dir, LARK_APP_ID: 'cli_a1b2c3d4e5f60718', LARK_APP_SECRET: 'bench-secret', LARK_DOMAIN: fake.url, LOG_LEVEL: 'info' });
      const progress: string[] = [];
      let t0 = performance.now();
      const sink = new Writable({
        write(chunk, _e, cb) {
          for (const line of String(chunk).split('\n')) {
            const m = /"msg":"(已匹配 [^"]+)"/.exec(line);
            if (m) progress.push(`${fmt((performance.now() - t0) / 1000, 1)} s ${m[1]}`);
          }
          cb();
        },
      });
      const logger = createLogger(config, sink);
      const client = createLarkClient(config, logger);
      const directory = larkContacts(client, logger, { perSecond: LARK_PER_SECOND, perMinute: LARK_PER_MINUTE });
      const resolver = new ContactsResolver({
        db,
        roster,
        lookups: createContactLookupRepo(db),
        audit: createAuditRepo(db),
        directory,
        clock: new ManualClock(Date.now()),
        logger,
      });
      t0 = performance.now();
      let ticks = 0;
      let calls = 0;
      // The scheduler's ticks, back to back (in the service one a minute; each tick is bounded).
      for (;;) {
        const r = await resolver.tick();
        ticks++;
        calls += r.calls;
        if (!r.looked || r.error) break;
      }
      const elapsed = performance.now() - t0;
      const at = fake.contactCalls.filter((c) => c.api === 'batch_get_id').map((c) => c.at);
      const inWindow = (ms: number) => {
        let best = 0;
        for (let i = 0, j = 0; i < at.length; i++) {
          while (at[i]! - at[j]! >= ms) j++;
          best = Math.max(best, i - j + 1);
        }
        return best;
      };
      const refused = fake.contactCalls.filter((c) => c.answeredWith === 429).length;
      const { bound, total } = createContactLookupRepo(db).counts();
      const notFound = roster.unbound().filter((u) => u.lookupStatus === 'not_found').length;
      console.log(`### ${STORE_LABEL[store]}`);
      for (const p of progress.length > 8 ? [...progress.slice(0, 4), '…', ...progress.slice(-3)] : progress) console.log(`  ${p}`);
      const rows: { measure: string; target: string; value: string }[] = [
        { measure: 'contacts: batch_get_id calls', target: `${PEOPLE / 50}`, value: String(calls) },
        { measure: 'contacts: elapsed', target: `≈ ${fmt(minSeconds(PEOPLE / 50), 0)} s (the least the limits allow)`, value: `${fmt(elapsed / 1000, 1)} s` },
        { measure: 'contacts: max calls in any 1 s', target: `≤ ${LARK_PER_SECOND}`, value: String(inWindow(1000)) },
        { measure: 'contacts: max calls in any 60 s', target: `≤ ${LARK_PER_MINUTE}`, value: String(inWindow(60_000)) },
        { measure: 'contacts: 429 answered by the fake', target: '0', value: String(refused) },
        { measure: 'contacts: scheduler ticks', target: '—', value: String(ticks) },
        { measure: 'contacts: bound / not found / people', target: `${PEOPLE * 0.9} / ${PEOPLE * 0.1} / ${PEOPLE}`, value: `${bound} / ${notFound} / ${total}` },
      ];
      console.log(table([['measure', 'target', 'value'], ...rows.map((r) => [r.measure, r.target, r.value])]));
      mergeSideBySide(side, store, rows);
    } finally {
      db.close();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
