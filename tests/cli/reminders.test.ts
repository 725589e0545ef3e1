import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDb } from '../../src/store/db.js';
import { openTestDb } from '../helpers/store.js';
import { runTs } from '../helpers/spawn.js';
import { sampleCampaign, seedCampaign } from '../helpers/roster.js';
import { tempDir } from '../helpers/test-runtime.js';

describe('npm run cli -- reminders due', () => {
  it('prints, as JSON lines, exactly the messages of that day’s slot, without sending or recording anything', async () => {
    const dir = tempDir();
    const db = openTestDb(join(dir, 'huanjie.db'));
    const c = sampleCampaign({ electionDay: '2026-12-01' });
    seedCampaign(db, c);
    db.close();
    const r = await runTs('src/cli/main.ts', ['reminders', 'due', '--at', '2026-11-20T09:00:00+08:00', '--json'], { env: { DATA_DIR: dir } });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { to: string; slot: string; kind: string; items: { village: string; stage?: string; talk?: string; due: string; overdue_days: number }[] });
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) {
      expect(l.slot).toBe('2026-11-20 09:00');
      expect(['reminder', 'escalation']).toContain(l.kind);
      for (const i of l.items) {
        expect(i.overdue_days > 0 || [0, -1, -3].includes(i.overdue_days) || (l.kind === 'escalation' && i.overdue_days === 2)).toBe(true);
        expect(i.stage ?? i.talk).toBeTruthy();
      }
    }
    // One message per person and kind.
    expect(new Set(lines.map((l) => `${l.to}/${l.kind}`)).size).toBe(lines.length);
    // The cadre of the first village is told; the talk due 2026-11-10 is overdue.
    expect(lines.some((l) => l.to === c.ids.cadres[0]![0] && l.items.some((i) => i.talk?.startsWith('选前谈话')))).toBe(true);
    const after = openTestDb(join(dir, 'huanjie.db'));
    expect((after.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n).toBe(0);
    expect((after.prepare('SELECT COUNT(*) AS n FROM sched_slots').get() as { n: number }).n).toBe(0);
    after.close();
  }, 60_000);

  it('refuses a time it cannot read', async () => {
    const r = await runTs('src/cli/main.ts', ['reminders', 'due', '--at', '下周一'], { env: { DATA_DIR: tempDir() } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--at');
  }, 60_000);
});
