import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { renderMessageText } from '../../src/bot/card-text.js';
import { openDb } from '../../src/store/db.js';
import { createWorkflowRepos } from '../../src/store/workflow-repos.js';
import { stageByKey } from '../../src/workflow/stage-templates.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { sampleCampaign, seedCampaign } from '../helpers/roster.js';
import { startTestRuntime, tempDir } from '../helpers/test-runtime.js';
import { scaled } from '../helpers/time-scale.js';
import { badUserText, toastWithoutAdvice } from '../helpers/user-text.js';
import { cardProbes, commandProbes, type ProbeIds } from '../helpers/validation-probes.js';
import { Driver } from './drive.js';
import { recordResults, startService, stopService, waitUntil, type AttackResult, type Service } from './lib.js';

/**
 * Attack (issue 17 item 7): wrong-typed card callbacks and chat commands against the real
 * service. Every card action the service routes on (taken from a runtime's own `cardActions`
 * map, so a new button is attacked without editing this file) is pressed with each field
 * replaced by a number, a string, an array, an object, null, nothing, a huge or a junk value;
 * every command word of the COMMANDS table is sent with arguments of the wrong kind. Every toast
 * (the callback's answer) and every message that reaches the fake Lark must be Chinese, free of
 * library English (Invalid…expected, Required, undefined, NaN, …Error, stack traces), and an
 * error toast must say what to do instead. A reply the last-resort guard had to replace counts
 * as a failure too: the guard is for what nobody foresaw, not the way the known paths speak.
 */
const results: AttackResult[] = [];
afterAll(() => recordResults(inject('faultResultsDir'), 'validation-messages', results));

/** What src/handlers/user-text.ts logs when it replaces a text (see there). */
const GUARD_LOG = 'user text guard';

describe('fault: wrong-typed card actions and commands get Chinese answers', () => {
  it('answers every wrong-typed field in Chinese, naming what to send instead', async () => {
    const started = Date.now();
    const fake = await FakeLark.start();
    const dir = tempDir('hj-fault-validation-');
    let svc: Service | undefined;
    let d: Driver | undefined;
    try {
      const c = sampleCampaign({ electionDay: '2026-12-20' });
      const seed = openDb(join(dir, 'huanjie.db'));
      seedCampaign(seed, c);
      const repos = createWorkflowRepos(seed);
      const cadre = c.ids.cadres[0]![0]!;
      const person = repos.roster.personByOpenId(cadre)!;
      const village = repos.roster.village(repos.roster.assignedVillageIds(person.id)[0]!)!;
      const talk = repos.talks.all().find((t) => t.interviewer_ids.includes(person.id)) ?? repos.talks.all()[0]!;
      const ids: ProbeIds = { villageId: village.id, villageName: village.name, stageKey: 'audit', stageName: stageByKey(village.type, 'audit')!.name, talkId: talk.id };
      seed.close();

      // The card actions the service routes on: a runtime's own table.
      const probeRt = await startTestRuntime({ start: false });
      const actions = [...probeRt.rt.cardActions.keys()];
      await probeRt.close({ remove: true });
      const cards = cardProbes(actions, ids);
      const commands = commandProbes(ids);

      svc = await startService({ dataDir: dir, fake });
      d = new Driver(svc, join(dir, 'huanjie.db'));
      const drv = d;

      interface Outcome { kind: 'card' | 'command'; label: string; problems: string[]; rows: { uuid: string; msg_type: string; content: string }[]; sent: string[] }
      const outcomes: Outcome[] = [];
      const rowsFor = (clause: string, arg: string) =>
        drv.db.prepare(`SELECT uuid, msg_type, content FROM outbox WHERE ${clause}`).all(arg) as { uuid: string; msg_type: string; content: string }[];

      const jobs: (() => Promise<void>)[] = [
        ...cards.map((p) => async () => {
          const problems: string[] = [];
          const r = await drv.cardAction(cadre, p.value, p.formValue);
          const body = (r.body ?? {}) as { toast?: { type?: string; content?: string }; card?: unknown };
          if (r.status !== 200) problems.push(`HTTP ${r.status}`);
          if (!body.toast && !body.card) problems.push(`no answer: ${JSON.stringify(r.body).slice(0, 100)}`);
          if (body.toast) {
            const bad = badUserText(String(body.toast.content ?? ''), p.sent) ?? toastWithoutAdvice(body.toast);
            if (bad) problems.push(`toast: ${bad}`);
          }
          if (body.card) {
            const bad = badUserText(renderMessageText('interactive', JSON.stringify((body.card as { data?: unknown }).data ?? body.card)), p.sent);
            if (bad) problems.push(`card: ${bad}`);
          }
          outcomes.push({ kind: 'card', label: `${p.action} ${p.what}`, problems, rows: rowsFor(`instr(intent, ?) > 0`, r.eventId), sent: p.sent });
        }),
        ...commands.map((p, i) => async () => {
          // Leader commands also from the admin; the rest from the cadre, who may write the village.
          const from = i % 3 === 2 ? c.ids.admin : cadre;
          const r = await drv.say(from, p.text, { chatId: drv.nextId('oc') });
          const problems: string[] = [];
          if (r.replies.length === 0) problems.push('no reply');
          outcomes.push({ kind: 'command', label: p.text.slice(0, 40), problems, rows: rowsFor(`reply_to = ?`, r.messageId), sent: p.sent });
        }),
      ];
      let next = 0;
      await Promise.all(Array.from({ length: 4 }, async () => { while (next < jobs.length) await jobs[next++]!(); }));

      // Everything written must reach Lark; judge the text as Lark received it.
      const uuids = new Set(outcomes.flatMap((o) => o.rows.map((r) => r.uuid)));
      await waitUntil(() => [...uuids].every((u) => fake.sent.some((m) => m.uuid === u)), scaled(120_000), 'every reply delivered to the fake Lark');
      // What anyone sent in this run may be stored and shown again (a risk described as "undefined" in 日报): it is theirs, not ours.
      const everySent = new Set(outcomes.flatMap((o) => o.sent));
      const byUuid = new Map(fake.sent.map((m) => [m.uuid, m]));
      for (const o of outcomes) {
        for (const row of o.rows) {
          const m = byUuid.get(row.uuid)!;
          const text = renderMessageText(m.msg_type, JSON.stringify(m.content));
          const bad = badUserText(text, everySent);
          if (bad) o.problems.push(`${m.msg_type}: ${bad}`);
        }
      }
      const guardFires = svc.output().split('\n').filter((l) => l.includes(GUARD_LOG)).length;
      const stop = await stopService(svc);
      svc = undefined;

      const failed = outcomes.filter((o) => o.problems.length);
      const tally = (k: Outcome['kind']) => `${outcomes.filter((o) => o.kind === k).length} ${k === 'card' ? `card presses (${actions.join(', ')})` : 'commands'}, ${failed.filter((o) => o.kind === k).length} failed`;
      const kinds = new Map<string, number>();
      for (const o of failed) for (const p of o.problems) {
        const k = p.replace(/".*$/s, '').replace(/:.*$/s, '').trim() + (p.includes('"') ? ` "${/"([^"]*)"/.exec(p)?.[1]}"` : '');
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
      }
      const examples = failed.slice(0, 4).map((o) => `${o.label} → ${o.problems[0]!.slice(0, 140)}`);
      results.push({
        attack: 'validation messages: wrong-typed card fields and command arguments',
        tries: outcomes.length,
        failures: failed.length + guardFires,
        notes:
          `${tally('card')}; ${tally('command')}; guard replaced ${guardFires} texts; clean stop ${stop.code === 0}; ${((Date.now() - started) / 1000).toFixed(1)} s` +
          (kinds.size ? `; by kind: ${[...kinds].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, n]) => `${k}×${n}`).join(', ')}` : '') +
          (examples.length ? `; e.g. ${examples.join(' | ')}` : ''),
      });
      // One line per distinct problem (the first probe that showed it), for whoever fixes it.
      const seen = new Set<string>();
      for (const o of failed) for (const p of o.problems) {
        const key = p.slice(0, 60);
        if (seen.has(key) || seen.size >= 60) continue;
        seen.add(key);
        process.stderr.write(`validation: ${o.label} → ${p.slice(0, 400)}\n`);
      }

      expect(outcomes.length).toBe(cards.length + commands.length);
      expect(failed.map((o) => `${o.label} → ${o.problems.join(' | ')}`).slice(0, 20)).toEqual([]);
      expect(guardFires, 'texts the last-resort guard had to replace').toBe(0);
      expect(stop.code).toBe(0);
    } catch (e) {
      if (svc) process.stderr.write(`service output:\n${svc.output().slice(-5000)}\n`);
      if (!results.length) results.push({ attack: 'validation messages', tries: 0, failures: 1, notes: String(e).slice(0, 300) });
      throw e;
    } finally {
      d?.close();
      if (svc) await stopService(svc, 'SIGKILL');
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
