import Database from 'better-sqlite3';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { FakeLarkFiles } from '../helpers/fake-lark-files.js';
import { campaignRows, sampleCampaign, writeXlsx } from '../helpers/roster.js';
import { tempDir } from '../helpers/test-runtime.js';
import { fileMessageEvent, inspectDb, postEvent, sentText, startCli } from './crash-kit.js';
import { recordResults, rng, SEED, sleep, startService, stopService, waitUntil, type AttackResult, type Service } from './lib.js';

/**
 * Attack (issue 8): `kill -9` during a roster import of ~10,000 rows, at random
 * moments — anywhere in the import (download, reading, validation, writing),
 * or while the import's write transaction holds the lock — through both
 * doors: the workbook sent to the bot in chat (the service is killed), and
 * `cli import` beside the running service (the CLI is killed). After each kill
 * the roster must be wholly the previous version or wholly the new one, the
 * database intact; after the restart the accepted import finishes by itself
 * with one confirmation that states what changed, and delivering or sending
 * the file again never duplicates anybody.
 */
const TOWNSHIPS = Number(process.env.FAULT_IMPORT_TOWNSHIPS ?? 100); // × ~99 rows each
const CHAT_KILLS = 3;
const CLI_KILLS = 2;
const NEW_PER_VERSION = 20;
const results: AttackResult[] = [];

afterAll(() => recordResults(inject('faultResultsDir'), 'crash-during-import', results));

const base = sampleCampaign({ townships: Array.from({ length: TOWNSHIPS }, (_, i) => `试点${i + 1}镇`), villagesPerTownship: 32 });
const ADMIN = base.ids.admin;
const P = base.people.length;
const V = base.villages.length;
const electionDay = (k: number) => `2026-12-${String(k).padStart(2, '0')}`;
const fileName = (k: number, door: string) => `花名册第${k}版-${door}.xlsx`;

/**
 * Version k of the roster: everybody renamed (…第k版), every election day moved, talks re-dated, 20 new cadres;
 * the cadres new in earlier versions stay on it unchanged. A roster is authoritative: leaving them out would
 * make each import stop for a confirmation of their removal (that flow is attacked in roster-changes.fault.ts).
 */
function versionRows(k: number): Record<string, Record<string, string>[]> {
  const rows = campaignRows(base);
  const rename = (n: string) => `${n}第${k}版`;
  for (const r of rows['人员']!) r['姓名'] = rename(r['姓名']!);
  for (const r of rows['村社区']!) r['选举日'] = electionDay(k);
  for (const r of rows['谈话']!) {
    r['谈话人'] = r['谈话人']!.split('、').map(rename).join('、');
    r['截止日期'] = `2026-11-${String(k).padStart(2, '0')}`;
  }
  for (let i = 1; i <= k; i++) {
    for (let j = 0; j < NEW_PER_VERSION; j++) {
      const v = base.villages[(j * 37) % V]!;
      rows['人员']!.push({ 姓名: `新增干部${i}号${j}`, 飞书open_id: `ou_fnew${i}x${j}`, 角色: '干部', 县: v.county, 乡镇: v.township, 负责村社区: v.name });
    }
  }
  return rows;
}

type Shape = { renamed: number; added: number; moved: number; records: number; audits: number; people: number };

function shape(db: Db, k: number, fname: string): Shape {
  const n = (sql: string, ...p: unknown[]) => (db.prepare(sql).get(...p) as { n: number }).n;
  return {
    renamed: n(`SELECT COUNT(*) AS n FROM wf_people WHERE name LIKE ?`, `%第${k}版`),
    added: n(`SELECT COUNT(*) AS n FROM wf_people WHERE open_id GLOB ?`, `ou_fnew${k}x*`),
    moved: n(`SELECT COUNT(*) AS n FROM wf_regions WHERE kind = 'village' AND election_day = ?`, electionDay(k)),
    records: n(`SELECT COUNT(*) AS n FROM wf_imports WHERE file_name LIKE ?`, `%${fname}`),
    audits: n(`SELECT COUNT(*) AS n FROM audit_log WHERE action = 'import' AND target LIKE ?`, `file:%${fname}`),
    people: n(`SELECT COUNT(*) AS n FROM wf_people`),
  };
}

/** 'new', 'old' or a description of the mixture. `applied` = versions wholly in before this one. */
function classify(s: Shape, applied: number): 'new' | 'old' | string {
  const before = applied === 0 ? 0 : P + NEW_PER_VERSION * applied;
  const isNew = s.renamed === P && s.added === NEW_PER_VERSION && s.moved === V && s.records === 1 && s.audits === 1 && s.people === (applied === 0 ? P + NEW_PER_VERSION : before + NEW_PER_VERSION);
  const isOld = s.renamed === 0 && s.added === 0 && s.moved === 0 && s.records === 0 && s.audits === 0 && s.people === before;
  return isNew ? 'new' : isOld ? 'old' : `PARTIAL ${JSON.stringify(s)}`;
}

/** Polls the database for a write transaction held for a while (the import's): BEGIN IMMEDIATE fails while another connection writes. */
class LockWatch {
  private readonly db: Database.Database;
  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('busy_timeout = 0');
  }
  busy(): boolean {
    try {
      this.db.exec('BEGIN IMMEDIATE');
      this.db.exec('ROLLBACK');
      return false;
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_BUSY') return true;
      throw e;
    }
  }
  /** Resolves when the write lock has been held for `holdMs` without a break (true), or false at the timeout. */
  async held(holdMs: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let since: number | null = null;
    while (Date.now() < deadline) {
      if (this.busy()) {
        since ??= Date.now();
        if (Date.now() - since >= holdMs) return true;
      } else since = null;
      await sleep(2);
    }
    return false;
  }
  /** Resolves when a hold of at least `holdMs` has just ended (the import committed), or false at the timeout. */
  async released(holdMs: number, timeoutMs: number): Promise<boolean> {
    if (!(await this.held(holdMs, timeoutMs))) return false;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.busy()) return true;
      await sleep(1);
    }
    return false;
  }
  /** The longest unbroken hold seen within `ms` (calibration). */
  async longest(until: () => boolean, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let since: number | null = null;
    let best = 0;
    while (!until() && Date.now() < deadline) {
      if (this.busy()) since ??= Date.now();
      else if (since !== null) {
        best = Math.max(best, Date.now() - since);
        since = null;
      }
      await sleep(2);
    }
    return best;
  }
  close(): void {
    this.db.close();
  }
}

describe('fault: crash during a roster import', () => {
  it(`kill -9 during ${CHAT_KILLS} chat imports and ${CLI_KILLS} CLI imports of ~${Math.round((3 * V + 3 * TOWNSHIPS) / 100) * 100} rows: all or nothing, then exactly once`, async () => {
    const started = Date.now();
    const random = rng(SEED + 30);
    const fake = await FakeLark.start();
    const files = await FakeLarkFiles.start(fake);
    const dir = tempDir('hj-fault-import-');
    const dbFile = join(dir, 'huanjie.db');
    const env = { LARK_DOMAIN: files.url, ADMIN_OPEN_IDS: ADMIN };
    const rows = Object.values(versionRows(1)).reduce((s, r) => s + r.length, 0);
    const events: string[] = [];
    const problems: string[] = [];
    let svc: Service | undefined;
    let applied = 0;
    let tries = 0;
    const t0 = Date.now();

    const workbook = async (k: number, door: string) => {
      const path = join(dir, fileName(k, door));
      await writeXlsx(path, versionRows(k));
      return path;
    };
    const confirmations = (messageId: string) => fake.sent.filter((m) => m.reply_to === messageId);
    const countsLine = (messageId: string) => sentText(confirmations(messageId)[0]!).match(/人员：新增 \d+，更新 \d+，未变 \d+/)?.[0];
    const sendFile = async (k: number, messageId: string, path: string) => {
      files.addFile(messageId, `file_${messageId}`, readFileSync(path));
      const ev = fileMessageEvent({ openId: ADMIN, messageId, eventId: `ev_${messageId}`, chatId: 'oc_admin_p2p', fileKey: `file_${messageId}`, fileName: fileName(k, 'chat') });
      return { ev, r: await postEvent(svc!.base, ev) };
    };

    try {
      svc = await startService({ dataDir: dir, fake, env });

      // Calibration, not killed: version 1 into an empty roster; how long an import takes, and how long it holds the write lock.
      const cal = await workbook(1, 'chat');
      const watch0 = new LockWatch(dbFile);
      const c0 = Date.now();
      const first = await sendFile(1, 'om_import_v1', cal);
      expect(first.r.status).toBe(200);
      const lockMs = await watch0.longest(() => confirmations('om_import_v1').length > 0, 120_000);
      watch0.close();
      await waitUntil(() => confirmations('om_import_v1').length > 0, 120_000, 'the first import');
      const importMs = Date.now() - c0;
      expect(countsLine('om_import_v1')).toBe(`人员：新增 ${P + NEW_PER_VERSION}，更新 0，未变 0`);
      applied = 1;
      events.push(`calibration: ${rows} rows in ${(importMs / 1000).toFixed(1)} s, write lock held ${lockMs} ms`);

      // Through chat: the service is killed.
      for (let a = 0; a < CHAT_KILLS; a++) {
        const k = applied + 1;
        tries++;
        const path = await workbook(k, 'chat');
        const messageId = `om_import_v${k}`;
        // Cycling: anywhere in the import; inside its write transaction; just after it committed.
        const mode = a % 3;
        const watch = new LockWatch(dbFile);
        const { ev, r } = await sendFile(k, messageId, path);
        expect(r.status).toBe(200);
        let when: string;
        if (mode === 1 && (await watch.held(20, importMs * 3))) {
          const extra = Math.floor(random() * lockMs * 0.9);
          await sleep(extra);
          when = `write lock held +${extra} ms`;
        } else if (mode === 2 && (await watch.released(20, importMs * 3))) {
          when = 'just after the commit';
        } else {
          const at = Math.floor(random() * importMs * 1.1);
          await sleep(at);
          when = `${at} ms after the ack`;
        }
        svc.child.kill('SIGKILL');
        await svc.exited;
        watch.close();
        svc = undefined;
        const atKill = inspectDb(dbFile, (db, integrity) => ({ integrity, state: classify(shape(db, k, fileName(k, 'chat')), applied) }));
        if (atKill.integrity !== 'ok') problems.push(`chat v${k}: integrity ${atKill.integrity}`);
        if (atKill.state !== 'old' && atKill.state !== 'new') problems.push(`chat v${k} after kill (${when}): ${atKill.state}`);

        // Restart: the accepted import finishes by itself, answered once, with what it changed.
        svc = await startService({ dataDir: dir, fake, env });
        await waitUntil(() => confirmations(messageId).length > 0, 120_000, `the resumed import v${k}`);
        // Lark delivers the same event again: a duplicate, nothing more.
        const again = await postEvent(svc.base, ev);
        if (again.status !== 200) problems.push(`chat v${k}: redelivery answered ${again.status}`);
        await sleep(500);
        const after = inspectDb(dbFile, (db) => classify(shape(db, k, fileName(k, 'chat')), applied));
        if (after !== 'new') problems.push(`chat v${k} after restart: ${after}`);
        if (confirmations(messageId).length !== 1) problems.push(`chat v${k}: ${confirmations(messageId).length} confirmations`);
        const line = countsLine(messageId);
        if (line !== `人员：新增 ${NEW_PER_VERSION}，更新 ${P}，未变 ${NEW_PER_VERSION * (k - 1)}`) problems.push(`chat v${k}: confirmation says ${line ?? sentText(confirmations(messageId)[0]!).slice(0, 200)}`);
        events.push(`chat v${k}: killed ${when}: ${atKill.state}`);
        applied = k;
      }

      // The admin sends the last file again (a new message): applied once more in place, nobody twice.
      {
        const k = applied;
        const { r } = await sendFile(k, `om_import_v${k}_again`, join(dir, fileName(k, 'chat')));
        expect(r.status).toBe(200);
        await waitUntil(() => confirmations(`om_import_v${k}_again`).length > 0, 120_000, 'the re-sent import');
        await sleep(300);
        const line = countsLine(`om_import_v${k}_again`);
        if (line !== `人员：新增 0，更新 0，未变 ${P + NEW_PER_VERSION * k}`) problems.push(`re-sent v${k}: confirmation says ${line}`);
        const people = inspectDb(dbFile, (db) => shape(db, k, fileName(k, 'chat')).people);
        if (people !== P + NEW_PER_VERSION * applied) problems.push(`after re-sending: ${people} people, expected ${P + NEW_PER_VERSION * applied}`);
      }

      // Through the CLI, beside the running service: the CLI is killed.
      for (let a = 0; a < CLI_KILLS; a++) {
        const k = applied + 1;
        tries++;
        const path = await workbook(k, 'cli');
        const inWrite = a % 2 === 0;
        const watch = new LockWatch(dbFile);
        const cli = startCli(['import', path], { DATA_DIR: dir });
        let when: string;
        if (inWrite && (await watch.held(20, importMs * 4))) {
          const extra = Math.floor(random() * lockMs * 0.9);
          await sleep(extra);
          when = `write lock held +${extra} ms`;
        } else {
          const at = Math.floor(random() * importMs * 1.3);
          await sleep(at);
          when = `${at} ms after start`;
        }
        cli.child.kill('SIGKILL');
        const exit = await cli.done;
        watch.close();
        const finishedFirst = exit.signal !== 'SIGKILL';
        const atKill = inspectDb(dbFile, (db, integrity) => ({ integrity, state: classify(shape(db, k, fileName(k, 'cli')), applied) }));
        if (atKill.integrity !== 'ok') problems.push(`cli v${k}: integrity ${atKill.integrity}`);
        if (atKill.state !== 'old' && atKill.state !== 'new') problems.push(`cli v${k} after kill (${when}): ${atKill.state}`);
        // Run again to the end: applies what is missing, or finds everything in place.
        const rerun = startCli(['import', path], { DATA_DIR: dir });
        const done = await rerun.done;
        const expected =
          atKill.state === 'new' ? `人员：新增 0，更新 0，未变 ${P + NEW_PER_VERSION * k}` : `人员：新增 ${NEW_PER_VERSION}，更新 ${P}，未变 ${NEW_PER_VERSION * (k - 1)}`;
        if (done.code !== 0 || !done.stdout.includes(expected)) problems.push(`cli v${k} re-run: exit ${done.code}, expected「${expected}」: ${done.stdout.slice(0, 300)} ${done.stderr.slice(0, 300)}`);
        const after = inspectDb(dbFile, (db) => {
          const s = shape(db, k, fileName(k, 'cli'));
          // A CLI run that died before committing left no record; the re-run's record is the one.
          return classify({ ...s, records: Math.min(s.records, 1), audits: Math.min(s.audits, 1) }, applied) + (s.records === (atKill.state === 'new' ? 2 : 1) ? '' : ` records ${s.records}`);
        });
        if (after !== 'new') problems.push(`cli v${k} after re-run: ${after}`);
        events.push(`cli v${k}: killed ${when}${finishedFirst ? ' (had finished)' : ''}: ${atKill.state}`);
        applied = k;
      }

      // The service is unharmed by the CLI's deaths and stops cleanly.
      const ready = await fetch(svc.base + '/readyz');
      if (ready.status !== 200) problems.push(`readyz ${ready.status} after the CLI kills`);
      const stop = await stopService(svc);
      svc = undefined;
      if (stop.code !== 0) problems.push(`service exit code ${stop.code}`);
      const final = inspectDb(dbFile, (db, integrity) => ({
        integrity,
        people: (db.prepare(`SELECT COUNT(*) AS n FROM wf_people`).get() as { n: number }).n,
        pending: (db.prepare(`SELECT COUNT(*) AS n FROM received_events WHERE status != 'done'`).get() as { n: number }).n,
      }));
      if (final.integrity !== 'ok') problems.push(`final integrity ${final.integrity}`);
      if (final.people !== P + NEW_PER_VERSION * applied) problems.push(`final: ${final.people} people, expected ${P + NEW_PER_VERSION * applied}`);
      if (final.pending) problems.push(`final: ${final.pending} events not done`);
      const strangers = fake.sent.filter((m) => !/导入完成/.test(sentText(m)));
      if (strangers.length) problems.push(`unexpected messages: ${strangers.map(sentText).join(' | ').slice(0, 300)}`);

      const secs = ((Date.now() - started) / 1000).toFixed(1);
      results.push({
        attack: `crash during import (kill -9, ${rows} rows, chat and CLI)`,
        tries,
        failures: problems.length,
        notes: `${events.join('; ')}; integrity ok after each; ${((Date.now() - t0) / 1000).toFixed(0)} s in all (${secs} s)`,
      });
      expect(problems).toEqual([]);
    } catch (e) {
      if (svc) process.stderr.write(`service output:\n${svc.output().slice(-5000)}\n`);
      if (!results.length) results.push({ attack: 'crash during import (kill -9, chat and CLI)', tries: tries || 1, failures: Math.max(1, problems.length), notes: `${events.join('; ')}; ${String(e).slice(0, 300)}` });
      throw e;
    } finally {
      if (svc) await stopService(svc, 'SIGKILL');
      await files.close();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
