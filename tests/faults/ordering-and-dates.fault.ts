import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { createWorkflowRepos } from '../../src/store/workflow-repos.js';
import { addDays, todayIn } from '../../src/workflow/dates.js';
import type { Village } from '../../src/workflow/types.js';
import { messageEvent } from '../helpers/events.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { sampleCampaign, seedCampaign } from '../helpers/roster.js';
import { tempDir } from '../helpers/test-runtime.js';
import { Driver, type OutboxMessage } from './drive.js';
import { recordResults, rng, SEED, startService, stopService, type AttackResult, type Service } from './lib.js';

/**
 * Attack (issue 17 items 1 and 5) on the real service, its host process in another time zone
 * (TZ=America/Los_Angeles; the campaign is Asia/Shanghai).
 *
 * Ordering: Lark redelivers for hours and a long connection redelivers after a reconnect, so a
 * message can arrive after a newer one. Each try sends two check-ins for the same village/stage
 * (or talk) whose create_time differ by minutes; most tries deliver the newer first. The later
 * state (by create_time) must be what stays, the late one audited as superseded and its sender
 * told; delivered in order, both apply (the control: ordering must not block real changes).
 *
 * Dates: one table of date words through the chat command and the card form: impossible dates,
 * 1900, 1999, dates before the campaign, full-width digits, 明天 for a completion, and 今天 from a
 * message created at 23:59:52 Shanghai time delivered after midnight.
 */
const TRIES = Number(process.env.FAULT_ORDER_TRIES ?? 10);
const TZ = 'Asia/Shanghai';
const results: AttackResult[] = [];
afterAll(() => recordResults(inject('faultResultsDir'), 'ordering-and-dates', results));

const MIN = 60_000;
const hhmm = (ms: number) => new Intl.DateTimeFormat('en-GB', { timeZone: TZ, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(ms));
const fullWidth = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0));
const cn = (iso: string) => `${Number(iso.slice(5, 7))}月${Number(iso.slice(8, 10))}日`;

/** A chat message as Lark sends it, created at `createdAt` (header and message). */
function messageAt(text: string, openId: string, createdAt: number, id: string) {
  const ev = messageEvent({ text, openId, messageId: `om_${id}`, eventId: `ev_${id}`, chatId: `oc_p2p_${openId}` });
  ev.header.create_time = String(createdAt);
  (ev.event.message as Record<string, unknown>).create_time = String(createdAt);
  return ev;
}

describe('fault: late and out-of-order deliveries; one meaning for dates', () => {
  it(`${TRIES} out-of-order pairs per kind, and the date table through chat and card`, async () => {
    const random = rng(SEED + 17);
    const fake = await FakeLark.start();
    const dir = tempDir('hj-fault-order-');
    const dbFile = join(dir, 'huanjie.db');
    const campaign = sampleCampaign({ townships: ['沁河镇'], villagesPerTownship: 2 * TRIES + 16, communityEvery: 0, talks: true });
    const setup = openDb(dbFile);
    seedCampaign(setup, campaign);
    const villages = createWorkflowRepos(setup).roster.villages();
    setup.close();
    const cadreOf = (v: Village) => campaign.people.find((p) => p.role === '干部' && p.villages.includes(v.name))!.openId;
    const talkOf = (v: Village) => campaign.talks.find((t) => t.category === '选前谈话' && t.place === v.name)!.subject;

    let svc: Service | undefined;
    let drv: Driver | undefined;
    let seq = 0;
    try {
      svc = await startService({ dataDir: dir, fake, env: { TZ: 'America/Los_Angeles' } });
      const d = (drv = new Driver(svc, dbFile));
      const send = async (text: string, openId: string, createdAt: number): Promise<OutboxMessage[]> => {
        const id = `ord_${SEED}_${++seq}`;
        const r = await d.post(messageAt(text, openId, createdAt, id));
        if (r.status !== 200) throw new Error(`HTTP ${r.status} for ${text}`);
        await d.waitHandled(`ev_${id}`);
        return d.repliesTo(`om_${id}`);
      };
      const stageRow = (villageId: number, key: string) =>
        d.db.prepare(`SELECT status, completed_on, note FROM wf_stage_progress WHERE village_id = ? AND stage_key = ?`).get(villageId, key) as
          | { status: string; completed_on: string | null; note: string | null }
          | undefined;
      const superseded = (sourceId: string) =>
        (d.db.prepare(`SELECT COUNT(*) AS n FROM audit_log WHERE action LIKE '%superseded%' AND detail LIKE ?`).get(`%${sourceId}%`) as { n: number }).n;

      // ------------------------------------------------------------ ordering
      const ordering = async (kind: 'stage' | 'talk', pool: Village[]) => {
        let failures = 0;
        let lost = 0;
        let late = 0;
        let inOrder = 0;
        const why: string[] = [];
        for (let i = 0; i < TRIES; i++) {
          const v = pool[i]!;
          const who = cadreOf(v);
          const base = Date.now() - (5 + Math.floor(random() * 90)) * MIN;
          const gap = (1 + Math.floor(random() * 15)) * MIN;
          const older = kind === 'stage' ? `进度 ${v.name} 审计 进行中 O${i}` : `谈话 ${talkOf(v)} 未谈`;
          const newer = kind === 'stage' ? `完成 ${v.name} 审计` : `谈话 ${talkOf(v)} 完成 已签承诺书`;
          const control = random() < 0.25;
          const problems: string[] = [];
          if (control) {
            inOrder++;
            await send(older, who, base);
            await send(newer, who, base + gap);
          } else {
            late++;
            await send(newer, who, base + gap);
            const lateSeq = seq + 1;
            const replies = await send(older, who, base);
            const text = replies.map((r) => r.text).join('\n');
            if (!text.includes('未覆盖') || !text.includes(hhmm(base)) || !text.includes(hhmm(base + gap))) problems.push(`late sender told: ${text.slice(0, 120)}`);
            if (superseded(`om_ord_${SEED}_${lateSeq}`) !== 1) problems.push('no superseded audit row');
          }
          const final =
            kind === 'stage'
              ? stageRow(v.id, 'audit')?.status
              : (d.db.prepare(`SELECT status FROM wf_talks WHERE subject = ?`).get(talkOf(v)) as { status: string } | undefined)?.status;
          const want = kind === 'stage' ? '已完成' : '已谈';
          if (final !== want) {
            lost++;
            problems.push(`final ${final}, the newer ${want} lost`);
          }
          if (problems.length) {
            failures++;
            process.stderr.write(`out-of-order ${kind} #${i}: ${problems.join('; ')}\n`);
            if (why.length < 2) why.push(`#${i}${control ? ' (in order)' : ''}: ${problems.join('; ')}`);
          }
        }
        results.push({
          attack: `out-of-order ${kind} check-ins (newer first, older minutes later)`,
          tries: TRIES,
          failures,
          notes: `${late} delivered out of order, ${inOrder} in order (control); data lost ${lost}${why.length ? `; ${why.join(' | ')}` : ''}`,
        });
        return failures;
      };
      const orderFailures = (await ordering('stage', villages.slice(0, TRIES))) + (await ordering('talk', villages.slice(TRIES, 2 * TRIES)));

      // ------------------------------------------------------------ dates
      const now = Date.now();
      const today = todayIn(TZ, now);
      // The last 23:59:52 Shanghai time before now: a message created then, delivered now (after midnight).
      let lastEve = Date.parse(`${today}T23:59:52+08:00`);
      if (lastEve > now) lastEve -= 86_400_000;
      const eveDay = todayIn(TZ, lastEve);
      // text: typed in chat after 「完成 村 阶段」; card: what the form's date picker sends (absent: chat only).
      type Row = { text: string; card?: string; want: string | null; why: string; createdAt?: number };
      const y = today.slice(0, 4);
      const table: Row[] = [
        { text: '2月30日', card: `${y}-02-30`, want: null, why: 'impossible' },
        { text: '13月1日', card: `${y}-13-01`, want: null, why: 'impossible' },
        { text: '2026-02-29', card: '2026-02-29', want: null, why: 'not a leap year' },
        { text: '1900年1月1日', card: '1900-01-01', want: null, why: '1900' },
        { text: '1999-12-31', card: '1999-12-31', want: null, why: '1999' },
        { text: addDays(today, -400), card: addDays(today, -400), want: null, why: 'before the campaign' },
        { text: '400天前', want: null, why: 'before the campaign' },
        { text: '明天', card: addDays(today, 1), want: null, why: 'future completion' },
        { text: addDays(today, 2), card: addDays(today, 2), want: null, why: 'future completion' },
        { text: '今天', card: today, want: today, why: '今天, host in Los Angeles' },
        { text: '昨天', card: addDays(today, -1), want: addDays(today, -1), why: '昨天' },
        { text: '３天前', want: addDays(today, -3), why: 'full-width 3天前' },
        { text: fullWidth(cn(addDays(today, -5))), want: addDays(today, -5), why: 'full-width M月D日' },
        { text: fullWidth(addDays(today, -6)), card: fullWidth(addDays(today, -6)), want: addDays(today, -6), why: 'full-width ISO' },
        // Lark redelivers within hours; a 23:59:52 message older than that is outside the window.
        ...(now - lastEve < 11 * 3600_000 ? [{ text: '今天', want: eveDay, why: '今天 sent 23:59:52, delivered after midnight', createdAt: lastEve }] : []),
      ];
      const stages = ['audit', 'survey', 'election_committee'] as const;
      const stageName = { audit: '审计', survey: '摸底研判', election_committee: '推选选举委员会' } as const;
      const slots = villages.slice(2 * TRIES).flatMap((v) => stages.map((s) => ({ v, s })));
      const judge = (row: Row, answer: string, got: { status: string; completed_on: string | null } | undefined): string | null => {
        if (row.want) {
          if (got?.status !== '已完成' || got.completed_on !== row.want) return `${row.text} (${row.why}): recorded ${JSON.stringify(got)}, want ${row.want}`;
          return null;
        }
        if (got) return `${row.text} (${row.why}) accepted as ${got.completed_on}`;
        if (!/[\u4e00-\u9fff]/.test(answer) || !/请|例如|可写/.test(answer)) return `${row.text}: refusal does not say what to send: ${answer.slice(0, 80)}`;
        return null;
      };
      const dateAttack = async (via: 'chat' | 'card') => {
        const rows = via === 'chat' ? table : table.filter((r) => r.card !== undefined);
        const bad: string[] = [];
        let lost = 0;
        for (const row of rows) {
          const { v, s } = slots.shift()!;
          const who = cadreOf(v);
          let answer: string;
          if (via === 'chat') {
            answer = (await send(`完成 ${v.name} ${stageName[s]} ${row.text}`, who, row.createdAt ?? Date.now())).map((r) => r.text).join('\n');
          } else {
            const r = await d.cardAction(who, { action: 'checkin_submit' }, { village: String(v.id), stage: s, status: '已完成', date: `${row.card} +0800` });
            answer = (r.body as { toast?: { content?: string } })?.toast?.content ?? '';
          }
          const got = stageRow(v.id, s);
          const problem = judge(row, answer, got);
          if (problem) {
            bad.push(problem);
            // Data lost: a completion recorded with a day other than the one meant (or none meant).
            if (got && got.completed_on !== row.want) lost++;
          }
        }
        if (bad.length) process.stderr.write(`date table via ${via}:\n  ${bad.join('\n  ')}\n`);
        results.push({
          attack: `date table via ${via === 'chat' ? 'chat 完成 command' : 'card form date'} (host TZ America/Los_Angeles)`,
          tries: rows.length,
          failures: bad.length,
          notes: `data lost ${lost} (wrong or missing completion dates)${bad.length ? `; ${bad.slice(0, 4).join(' | ')}` : ''}`,
        });
        return bad;
      };
      const chatBad = await dateAttack('chat');
      const cardBad = await dateAttack('card');

      const stop = await stopService(svc);
      svc = undefined;
      expect(stop.code).toBe(0);
      expect(orderFailures).toBe(0);
      expect(chatBad).toEqual([]);
      expect(cardBad).toEqual([]);
    } catch (e) {
      if (svc) process.stderr.write(`service output:\n${svc.output().slice(-4000)}\n`);
      if (!results.length) results.push({ attack: 'ordering and dates', tries: 0, failures: 1, notes: String(e).slice(0, 300) });
      throw e;
    } finally {
      drv?.close();
      if (svc) await stopService(svc, 'SIGKILL');
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
