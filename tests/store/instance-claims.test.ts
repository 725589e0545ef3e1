import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { dropPgSchema, type Db } from '../../src/store/db.js';
import { createOutboxRepo, type OutboxRepo } from '../../src/store/outbox-repo.js';
import { createReceivedEventsRepo } from '../../src/store/received-events-repo.js';
import { Scheduler } from '../../src/workflow/schedule/scheduler.js';
import { createScheduleRepo } from '../../src/store/schedule-repo.js';
import { ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/logger.js';
import { onPostgres, openTestDb, schemaFor, TEST_PG_URL } from '../helpers/store.js';
import { tempDir } from '../helpers/test-runtime.js';

/**
 * Several instances on one database (issue 7): the outbox claim (FOR UPDATE SKIP LOCKED, one row in
 * flight per receiver), the release of a dead instance's claims (its lock, not a time lease), the
 * inbox's adoption of a dead instance's pending events, and the scheduler lock. Each "instance" is a
 * connection of its own. On SQLite the same repositories keep the single-process rules.
 */
const open: Db[] = [];
let file = '';

function instance(): Db {
  const db = openTestDb(file);
  open.push(db);
  return db;
}

afterEach(async () => {
  for (const db of open.splice(0)) if (db.open) db.close();
  if (onPostgres && file) dropPgSchema(TEST_PG_URL, schemaFor(file));
});

function fresh(): void {
  file = join(tempDir('hj-claims-'), 'huanjie.db');
}

function put(repo: OutboxRepo, receiver: string, text: string, at = 1000): number {
  return repo.enqueue({
    uuid: randomUUID(),
    intent: `t:${text}`,
    receiveIdType: 'open_id',
    receiveId: receiver,
    rateKey: receiver,
    msgType: 'text',
    content: JSON.stringify({ text }),
    createdAt: at,
  }).row.id;
}

/** The server notices a closed connection a moment later: poll until `f` gives a non-empty answer. */
function eventually<T>(f: () => T, ok: (x: T) => boolean): T {
  const until = Date.now() + 3000;
  for (;;) {
    const x = f();
    if (ok(x) || Date.now() > until) return x;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

const texts = (rows: { content: string }[]) => rows.map((r) => (JSON.parse(r.content) as { text: string }).text).sort();

describe.skipIf(!onPostgres)('PostgreSQL: outbox claims across instances', () => {
  it('two instances claim disjoint rows; one row in flight per receiver, oldest first', () => {
    fresh();
    const a = createOutboxRepo(instance());
    const b = createOutboxRepo(instance());
    expect(a.shared).toBe(true);
    put(a, 'r1', 'r1-1');
    put(a, 'r1', 'r1-2');
    put(a, 'r2', 'r2-1');
    for (let i = 0; i < 20; i++) put(a, `x${i}`, `x${i}`);
    const first = a.claimDue(2000, 12);
    const second = b.claimDue(2000, 100);
    const ids = [...first, ...second].map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    // r1's second message waits until its first is sent, whichever instance holds it.
    expect(texts([...first, ...second])).not.toContain('r1-2');
    expect(texts([...first, ...second])).toContain('r1-1');
    expect(first.length + second.length).toBe(22);
    expect(first.every((r) => r.status === 'sending' && r.attempts === 1)).toBe(true);
    const r1 = [...first, ...second].find((r) => texts([r])[0] === 'r1-1')!;
    a.markSent(r1.id, 2001, 'om_1');
    expect(texts(b.claimDue(2002, 100))).toEqual(['r1-2']);
    expect(a.claimDue(2002, 100)).toEqual([]);
  });

  it('rows locked by another transaction are skipped, not waited for (SKIP LOCKED)', async () => {
    fresh();
    const db = instance();
    const a = createOutboxRepo(db);
    const locked = put(a, 'r1', 'locked');
    put(a, 'r2', 'free');
    const c = new pg.Client({ connectionString: TEST_PG_URL });
    await c.connect();
    try {
      await c.query(`SET search_path TO "${schemaFor(file)}"`);
      await c.query('BEGIN');
      await c.query('SELECT id FROM outbox WHERE id = $1 FOR UPDATE', [locked]);
      const t = Date.now();
      expect(texts(a.claimDue(2000, 10))).toEqual(['free']);
      expect(Date.now() - t).toBeLessThan(1000);
      await c.query('ROLLBACK');
      expect(texts(a.claimDue(2000, 10))).toEqual(['locked']);
    } finally {
      await c.end();
    }
  });

  it("a live instance's claims are never released, however old; a dead one's are at once", () => {
    fresh();
    const dbA = instance();
    const a = createOutboxRepo(dbA);
    const b = createOutboxRepo(instance());
    for (let i = 0; i < 5; i++) put(a, `r${i}`, `m${i}`);
    expect(a.claimDue(1000, 10)).toHaveLength(5);
    // A day later A is still alive (waiting on Lark, say): nothing to take.
    expect(b.releaseDead(1000 + 86_400_000)).toBe(0);
    expect(b.claimDue(1000 + 86_400_000, 10)).toEqual([]);
    dbA.close();
    expect(eventually(() => b.releaseDead(1001), (n) => n > 0)).toBe(5);
    const again = b.claimDue(1002, 10);
    expect(texts(again)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(again.every((r) => r.attempts === 2)).toBe(true);
    // Its own claims are not "dead" to itself.
    expect(b.releaseDead(1_000_000_000)).toBe(0);
  });

  it('shared send counts include every instance', () => {
    fresh();
    const a = createOutboxRepo(instance());
    const b = createOutboxRepo(instance());
    for (let i = 0; i < 4; i++) put(a, `r${i}`, `m${i}`);
    const rows = a.claimDue(10_000, 3);
    b.markSent(rows[0]!.id, 10_000, 'om');
    b.markSent(rows[1]!.id, 9_500, 'om');
    expect(b.sharedSends(10_100)).toEqual({ lastSecond: 2, lastMinute: 2, sending: 1 });
    expect(a.sharedSends(10_600)).toEqual({ lastSecond: 1, lastMinute: 2, sending: 1 });
  });
});

describe.skipIf(!onPostgres)('PostgreSQL: inbox across instances', () => {
  it('a duplicate delivered to another instance is refused; pending events are adopted only from dead instances', () => {
    fresh();
    const dbA = instance();
    const a = createReceivedEventsRepo(dbA);
    const b = createReceivedEventsRepo(instance());
    const ev = (id: string, msg: string) => ({ eventId: id, messageId: msg, eventType: 'im.message.receive_v1', payload: '{}', receivedAt: 1000 });
    expect(a.tryInsert(ev('e1', 'm1'))).toBe(true);
    expect(b.tryInsert(ev('e1', 'm1'))).toBe(false);
    expect(b.tryInsert(ev('e1-retry', 'm1'))).toBe(false);
    expect(a.tryInsert(ev('e2', 'm2'))).toBe(true);
    // A is handling both: B starting now must not run them again.
    expect(b.adoptPending()).toEqual([]);
    a.markDone('e2', 1001);
    dbA.close();
    const taken = eventually(() => b.adoptPending(), (r) => r.length > 0);
    expect(taken.map((r) => r.event_id)).toEqual(['e1']);
    // Now B's: a third instance leaves it alone.
    const c = createReceivedEventsRepo(instance());
    expect(c.adoptPending()).toEqual([]);
  });
});

describe('single store rules kept', () => {
  it('SQLite: no shared claims; every pending event is resumed at start', () => {
    fresh();
    const db = instance();
    const o = createOutboxRepo(db);
    const e = createReceivedEventsRepo(db);
    expect(o.shared).toBe(onPostgres);
    expect(e.tryInsert({ eventId: 'e1', eventType: 'x', payload: '{}', receivedAt: 1 })).toBe(true);
    expect(e.tryInsert({ eventId: 'e2', eventType: 'x', payload: '{}', receivedAt: 1 })).toBe(true);
    expect(e.listPending().map((r) => r.event_id)).toEqual(['e1', 'e2']);
    if (!onPostgres) expect(e.adoptPending().map((r) => r.event_id)).toEqual(['e1', 'e2']);
  });

  it('the scheduler plans each pass in one instance at a time', async () => {
    fresh();
    const dbs = [instance(), instance(), instance()];
    const clock = new ManualClock(Date.parse('2026-11-10T02:00:00Z'));
    const logger = createLogger({ logLevel: 'silent' } as never);
    let runs = 0;
    let inside = 0;
    let overlap = false;
    const schedulers = dbs.map(
      (db) =>
        new Scheduler({
          jobs: [
            {
              name: 'reminders',
              time: '09:00',
              run: async (slot) => {
                if (++inside > 1) overlap = true;
                runs++;
                await new Promise((r) => setTimeout(r, 100));
                createScheduleRepo(db).claimSlot('reminders', slot.date, slot.at, 'sent', clock.now());
                inside--;
              },
            },
          ],
          schedule: createScheduleRepo(db),
          clock,
          tz: 'Asia/Shanghai',
          logger,
          db,
        }),
    );
    await Promise.all(schedulers.map((s) => s.tick()));
    if (onPostgres) expect(runs).toBe(1);
    // SQLite's processes share nothing but the slot row: the same pass in three of them at once may all start
    // (one process per database is the SQLite deployment); the planning itself is idempotent.
    else expect(runs).toBeGreaterThanOrEqual(1);
    expect(overlap).toBe(!onPostgres && runs > 1);
    // Planned: a later pass in any instance adds nothing.
    await Promise.all(schedulers.map((s) => s.tick()));
    expect(runs).toBe(onPostgres ? 1 : runs);
  });
});
