import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDb } from '../../src/store/db.js';
import { openTestDb } from '../helpers/store.js';
import { createAuditRepo } from '../../src/store/audit-repo.js';
import { createOutboxRepo } from '../../src/store/outbox-repo.js';
import { createReceivedEventsRepo } from '../../src/store/received-events-repo.js';
import { tempDir } from '../helpers/test-runtime.js';

const fresh = () => openTestDb(join(tempDir(), 'r.db'));

describe('received events (dedupe)', () => {
  it('refuses a second event_id, and a second message_id under a new event_id', () => {
    const r = createReceivedEventsRepo(fresh());
    const e = { eventId: 'e1', messageId: 'm1', eventType: 'im.message.receive_v1', payload: '{}', receivedAt: 1 };
    expect(r.tryInsert(e)).toBe(true);
    expect(r.tryInsert(e)).toBe(false);
    expect(r.tryInsert({ ...e, eventId: 'e2' })).toBe(false);
    expect(r.tryInsert({ ...e, eventId: 'e3', messageId: undefined })).toBe(true);
    expect(r.tryInsert({ ...e, eventId: 'e4', messageId: undefined })).toBe(true);
  });

  it('keeps handled keys for 24 h and pending events until handled', () => {
    const r = createReceivedEventsRepo(fresh());
    const h = 3600_000;
    r.tryInsert({ eventId: 'old-done', eventType: 't', payload: '{}', receivedAt: 0 });
    r.markDone('old-done', 1);
    r.tryInsert({ eventId: 'old-pending', eventType: 't', payload: '{}', receivedAt: 0 });
    r.tryInsert({ eventId: 'recent', eventType: 't', payload: '{}', receivedAt: 20 * h });
    r.markDone('recent', 20 * h);
    expect(r.prune(9 * h)).toBe(0); // 9 h later: Lark's retry window (7.1 h) is covered with room to spare
    expect(r.prune(25 * h)).toBe(1);
    expect(r.get('old-pending')).toBeDefined();
    expect(r.get('recent')).toBeDefined();
  });
});

describe('outbox', () => {
  const input = (uuid: string, key = 'oc_1') => ({
    uuid, intent: `i:${uuid}`, receiveIdType: 'chat_id' as const, receiveId: key, rateKey: key, msgType: 'text', content: '{"text":"x"}', createdAt: 100,
  });

  it('writes one row per uuid', () => {
    const o = createOutboxRepo(fresh());
    expect(o.enqueue(input('u1')).created).toBe(true);
    expect(o.enqueue(input('u1')).created).toBe(false);
    expect(o.depth()).toBe(1);
  });

  it('hands out the oldest due row of each receiver, claims atomically, releases stale claims', () => {
    const o = createOutboxRepo(fresh());
    o.enqueue(input('a1', 'A'));
    o.enqueue(input('a2', 'A'));
    o.enqueue(input('b1', 'B'));
    expect(o.listDue(200, 10).map((r) => r.uuid)).toEqual(['a1', 'a2', 'b1']);
    expect(o.listDue(99, 10)).toEqual([]);
    const due = o.listDuePerReceiver(200, 10);
    expect(due.map((r) => r.uuid)).toEqual(['a1', 'b1']);
    expect(o.claim(due[0]!.id, 200)).toBe(true);
    expect(o.claim(due[0]!.id, 200)).toBe(false);
    expect(o.listDuePerReceiver(200, 10).map((r) => r.uuid)).toEqual(['a2', 'b1']);
    expect(o.releaseStale(201)).toBe(1);
    expect(o.getByUuid('a1')!.status).toBe('pending');
    expect(o.getByUuid('a1')!.attempts).toBe(1);
  });
});

describe('outbox lanes (issue 17)', () => {
  const row = (uuid: string, key: string, priority: 0 | 1, createdAt = 100) => ({
    uuid, intent: `i:${uuid}`, receiveIdType: 'chat_id' as const, receiveId: key, rateKey: key, msgType: 'text', content: '{"text":"x"}', createdAt, priority,
  });

  it('hands out interactive rows before older bulk rows, and interactive rows alone when asked', () => {
    const o = createOutboxRepo(fresh());
    o.enqueue(row('bulk1', 'ou_1', 1, 100));
    o.enqueue(row('bulk2', 'ou_2', 1, 101));
    o.enqueue(row('reply', 'oc_1', 0, 150));
    o.enqueue({ ...row('plain', 'ou_3', 1, 90), priority: undefined }); // no lane given: bulk
    expect(o.getByUuid('plain')!.priority).toBe(1);
    expect(o.listDue(200, 10).map((r) => r.uuid)).toEqual(['reply', 'plain', 'bulk1', 'bulk2']);
    expect(o.listDue(200, 10, 0).map((r) => r.uuid)).toEqual(['reply']);
    expect(o.listDuePerReceiver(200, 10).map((r) => r.uuid)).toEqual(['reply', 'plain', 'bulk1', 'bulk2']);
    expect(o.listDuePerReceiver(200, 10, 0).map((r) => r.uuid)).toEqual(['reply']);
  });

  it.skipIf(process.env.HJ_TEST_STORE !== 'postgres')('PostgreSQL: claims interactive rows first, one per receiver, bulk only when asked', () => {
    const o = createOutboxRepo(fresh());
    o.enqueue(row('bulk1', 'ou_1', 1, 100));
    o.enqueue(row('mixed-bulk', 'oc_1', 1, 100));
    o.enqueue(row('mixed-reply', 'oc_1', 0, 150));
    o.enqueue(row('reply2', 'oc_2', 0, 160));
    expect(o.claimDue(200, 10, 0).map((r) => r.uuid).sort()).toEqual(['mixed-reply', 'reply2']);
    // oc_1 has a row 'sending' now: its bulk row waits for it
    expect(o.claimDue(200, 10).map((r) => r.uuid)).toEqual(['bulk1']);
  });
});

describe('audit log', () => {
  it('records who, when, what, before and after', () => {
    const a = createAuditRepo(fresh());
    a.record({ at: 5, actor: 'ou_x', action: 'checkin', target: '城西村/审计', before: { status: null }, after: { status: 'done' } });
    const [row] = a.recent();
    expect(row).toMatchObject({ at: 5, actor: 'ou_x', action: 'checkin', target: '城西村/审计' });
    expect(JSON.parse(row!.after!)).toEqual({ status: 'done' });
  });
});
