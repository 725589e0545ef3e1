import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { cardActionEvent, fixture, messageEvent } from '../helpers/events.js';
import { sampleCampaign, seedCampaign } from '../helpers/roster.js';
import { larkEncrypt, larkRequest, larkSignature } from '../helpers/lark-sign.js';
import { tempDir, TEST_ENCRYPT_KEY, TEST_VERIFICATION_TOKEN } from '../helpers/test-runtime.js';
import { recordResults, rng, SEED, sleep, startService, stopService, waitUntil, type AttackResult, type Service } from './lib.js';

/**
 * Attack 2 (issue 8 §3): 10,000 generated bodies (FAULT_BODIES) against POST
 * /lark/events of the real service. Each must get a 4xx or a 200; the process
 * must stay up; Lark must see only the replies to the correctly signed
 * hostile-text events, one each, and at most one answer to any other accepted
 * event (to its own message, operator or chat). The exhaustive parts (every
 * field of a message event with every wrong type, the hostile texts) are a
 * fixed ~1,200; random bytes, truncated JSON, invalid `encrypt`, wrong keys and
 * random JSON fill the rest.
 */
const BODIES = Number(process.env.FAULT_BODIES ?? 10_000);
const CAMPAIGN = sampleCampaign();

type Expect =
  | 'refuse' // must be 4xx, and nothing may be sent
  | 'any' // 4xx or 200; a 200 may be answered with at most one reply to its own message
  | 'reply'; // must be 200 and answered with exactly one reply

interface Probe {
  category: string;
  body: Buffer | string;
  headers: Record<string, string>;
  expect: Expect;
  /** The message_id a reply may go to (signed events). */
  messageId?: string;
  /** Other receivers an accepted event may be answered at: a menu's operator (open_id), a group the bot joined (chat_id). */
  mayTo?: string[];
}

const random = rng(SEED + 1);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const JSON_CT = { 'content-type': 'application/json; charset=utf-8' };
let idSeq = 0;
const freshId = (p: string) => `${p}_fault_${++idSeq}_${Math.floor(random() * 1e9).toString(36)}`;

/** Signs a raw body as Lark would (optionally with another key, or a skewed clock). */
function signRaw(body: string | Buffer, key = TEST_ENCRYPT_KEY, nowMs = Date.now()): Record<string, string> {
  const ts = String(Math.floor(nowMs / 1000));
  const nonce = randomBytes(8).toString('hex');
  return { ...JSON_CT, 'x-lark-request-timestamp': ts, 'x-lark-request-nonce': nonce, 'x-lark-signature': larkSignature(ts, nonce, key, body.toString()) };
}

function signedEvent(payload: unknown, encrypt: boolean): { body: string; headers: Record<string, string> } {
  return larkRequest(payload, { encryptKey: TEST_ENCRYPT_KEY, encrypt });
}

/** Every path of an object, objects included (root excluded). */
function paths(o: unknown, prefix: string[] = []): string[][] {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return [];
  const out: string[][] = [];
  for (const [k, v] of Object.entries(o)) {
    out.push([...prefix, k]);
    out.push(...paths(v, [...prefix, k]));
  }
  return out;
}

function setPath(o: Record<string, unknown>, p: string[], v: unknown, del = false): void {
  let cur: Record<string, unknown> = o;
  for (const k of p.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  if (del) delete cur[p.at(-1)!];
  else cur[p.at(-1)!] = v;
}

const KEYS = ['schema', 'header', 'event', 'type', 'challenge', 'token', 'encrypt', 'event_id', 'event_type', 'message', 'message_id', 'sender', 'content', 'chat_id', 'action', 'value', 'form_value', 'operator', 'open_id', '__proto__', 'constructor', 'prototype', 'toString', 'length', '', '\u0000', '😀'];
const SCALARS = (): unknown[] => [null, true, false, 0, -1, 2 ** 53 + 1, 1e308, -0.5, '', ' ', '帮助', '\u0000\u001b', '\ud800', 'x'.repeat(Math.floor(random() * 5000)), freshId('s')];

/** A random JSON value; objects take keys real events use (and a few that break naive code). */
function randomJson(depth: number, object = false): unknown {
  const r = random();
  if (!object && (depth > 5 || r < 0.35)) return pick(SCALARS());
  if (!object && r < 0.6) return Array.from({ length: Math.floor(random() * 5) }, () => randomJson(depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(random() * 7); i > 0; i--) o[random() < 0.85 ? pick(KEYS) : freshId('k')] = randomJson(depth + 1);
  return o;
}

/** Ciphertexts that decrypt to garbage, or are not ciphertexts at all. */
function randomEncrypt(i: number): unknown {
  switch (i % 5) {
    case 0: return randomBytes(16 + 16 * Math.floor(random() * 8)).toString('base64');
    case 1: return larkEncrypt(TEST_ENCRYPT_KEY, randomBytes(Math.floor(random() * 200)).toString('latin1'));
    case 2: return larkEncrypt(TEST_ENCRYPT_KEY, JSON.stringify(randomJson(0)));
    case 3: return randomBytes(Math.floor(random() * 300)).toString('hex');
    default: return pick(SCALARS());
  }
}

const HOSTILE_TEXTS: string[] = [
  // FTS5 query syntax
  '"', '""', '"选民', 'AND', 'OR OR OR', 'NOT 选民', '选民 NEAR(名单 公布, 2)', '选民*', '*', '^选民', 'title:选民', '{title body}: 选民',
  '(((((', ')))', '选民 AND (名单 OR', '- 选民', '+选民', 'NEAR', "选民's 名单", '"选民" AND "名单" NOT "公布"',
  // SQL
  "'; DROP TABLE outbox; --", "1' OR '1'='1", "\" OR 1=1 --", 'SELECT * FROM received_events;', "'); DELETE FROM kb_chunks; --", '%', '_', '\\', "Robert'); DROP TABLE people;--",
  // control characters and odd Unicode
  '\u0000', 'a\u0000b', '\u0001\u0002\u0003\u0007\u0008', '\u001b[31m红色\u001b[0m', '\r\n\r\n', '\t\t帮助', '\u202e帮助\u202c', '\u200b\u200b\u200b', '\ufeff进度', '\ud800', 'x\udfffy',
  '\u3000\u3000', '   ', '/', '//', '／帮助', '完成', '完成 \u0000 资格审查', '谈话', '风险', '撤销 撤销 撤销', '进度 ' + '\u0000'.repeat(50),
  // long
  '选'.repeat(10_000), 'a'.repeat(10_000), '帮助 '.repeat(3_333), '😀'.repeat(5_000), ('选民名单要提前多少天公布？').repeat(700),
  // emoji
  '😀', '👍👎', '🇨🇳🏳️‍🌈👨‍👩‍👧‍👦', '选民名单要提前多少天公布？🙏', '🤖 进度 城西村',
  // commands whose arguments are FTS/SQL syntax, control characters, huge numbers, emoji
  "完成 城西村' OR '1'='1 审计", '完成 "城西村" "审计"', '进度 %', '进度 _', '进度 *', '进度 城西村 审计 进行中 \'); DROP TABLE wf_stage_progress;--',
  '风险 城西村 信访 "', '风险 跟进 1 OR 1=1', '风险 销号 99999999999999999999', '风险 NEAR(城西 村)', '结构 城西村 女性=1e999 党员比例=NaN%', '结构 城西村 一肩挑=\u0000',
  '谈话 " 完成', '谈话 *', '逾期 \' OR 1=1 --', '逾期 😀', '撤销 \u0007', '我的 ' + 'x'.repeat(5000), '完成 ' + '城'.repeat(3000) + ' 审计',
  // markup that could break a card
  '<at user_id="all">所有人</at>', '**加粗** [链接](http://x)', '{"tag":"div"}', '${{ 7*7 }}', '<script>alert(1)</script>', '@_user_1', '@_all',
];

function buildProbes(): Probe[] {
  const probes: Probe[] = [];
  // The fixed, exhaustive part is 1,884 bodies; the random categories share the rest by these weights
  // (and random bytes/JSON top up to exactly FAULT_BODIES at the end).
  const FIXED = 1884;
  const scale = Math.max(0.1, (BODIES - FIXED) / 2050);
  const n = (base: number) => Math.max(1, Math.round(base * scale));
  // A chat of its own per event: replies are rate-limited (5/s) and ordered per chat, which would only slow the run.
  const base = (chat: 'p2p' | 'group' = 'p2p') => messageEvent({ text: '帮助', chat, messageId: freshId('om'), chatId: freshId('oc') });

  // 1. Correctly signed events with hostile text: each must get exactly one reply.
  // From people in the roster (the admin, a cadre) and from a stranger, so the texts reach the lookups behind the commands.
  const senders = [CAMPAIGN.ids.admin, CAMPAIGN.ids.cadres[0]![0]!, undefined];
  for (const [i, text] of HOSTILE_TEXTS.entries()) {
    const ev = messageEvent({ text, chat: i % 5 === 4 ? 'group' : 'p2p', messageId: freshId('om_hostile'), chatId: freshId('oc'), openId: senders[i % 3] });
    const r = signedEvent(ev, i % 2 === 0);
    probes.push({ category: 'hostile text (signed)', ...r, expect: 'reply', messageId: (ev.event.message as { message_id: string }).message_id });
  }

  // 2. Random bytes.
  for (let i = 0; i < n(400); i++) {
    const body = randomBytes(Math.floor(random() * 4096));
    const signed = i % 3 === 0;
    const headers = signed ? signRaw(body) : pick([JSON_CT, { 'content-type': 'application/octet-stream' }, { 'content-type': 'text/plain' }]);
    probes.push({ category: 'random bytes', body, headers, expect: 'refuse' });
  }

  // 3. Truncated JSON of a valid request (the signature over the full body, or re-signed over the cut).
  for (let i = 0; i < n(300); i++) {
    const r = signedEvent(base(), i % 2 === 0);
    const cut = r.body.slice(0, Math.max(1, Math.floor(random() * (r.body.length - 1))));
    probes.push({ category: 'truncated JSON', body: cut, headers: i % 4 < 2 ? r.headers : signRaw(cut), expect: 'refuse' });
  }

  // 4. Deeply nested JSON (depth 10,000) — as the body, inside the event, inside the message content.
  for (let i = 0; i < 24; i++) {
    const depth = 10_000;
    const arr = '['.repeat(depth) + ']'.repeat(depth);
    const obj = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const variant = i % 6;
    if (variant === 0) probes.push({ category: 'deep nesting', body: arr, headers: JSON_CT, expect: 'refuse' });
    else if (variant === 1) probes.push({ category: 'deep nesting', body: obj, headers: signRaw(obj), expect: 'refuse' });
    else {
      const ev = base();
      const mid = (ev.event.message as { message_id: string }).message_id;
      const target = variant === 2 ? 'event' : variant === 3 ? 'header' : variant === 4 ? 'content' : 'text';
      let json: string;
      if (target === 'content') {
        (ev.event.message as Record<string, unknown>).content = 'NESTED';
        json = JSON.stringify(ev).replace('"NESTED"', JSON.stringify(obj));
      } else if (target === 'text') {
        (ev.event.message as Record<string, unknown>).content = JSON.stringify({ text: '帮助', extra: 0 }).replace('0', obj);
        json = JSON.stringify(ev);
      } else {
        (ev as Record<string, unknown>)[target === 'event' ? 'event' : 'deep'] = 'NESTED';
        json = JSON.stringify(ev).replace('"NESTED"', target === 'event' ? obj : arr);
      }
      const enc = i % 2 === 0;
      const body = enc ? JSON.stringify({ encrypt: larkEncrypt(TEST_ENCRYPT_KEY, json) }) : json;
      probes.push({ category: 'deep nesting', body, headers: signRaw(body), expect: 'any', messageId: mid });
    }
  }

  // 5. Wrong types in every field of a message event (and each field missing), correctly signed.
  // A lone surrogate is a JS string but not UTF-8: it cannot become a message uuid, a URL, or a SQLite text unchanged.
  const WRONG: unknown[] = [null, 0, -1, 1.5e308, true, '', [], {}, ['x'], { $: 1 }, 'x'.repeat(20_000), '\ud800x'];
  for (const chat of ['p2p', 'group'] as const) for (const p of paths(base(chat))) {
    for (const v of [...WRONG, undefined]) {
      const ev = base(chat);
      const mid = (ev.event.message as { message_id: string }).message_id;
      setPath(ev as unknown as Record<string, unknown>, p, v, v === undefined);
      const r = signedEvent(ev, random() < 0.5);
      probes.push({ category: 'wrong types (signed)', ...r, expect: 'any', messageId: mid });
    }
  }
  //    … and wrong types inside the message content JSON.
  for (const content of ['', 'null', '[]', '"text"', '{}', '{"text":null}', '{"text":123}', '{"text":["帮助"]}', '{"text":{"a":1}}', '{"text":true}', 'not json', '{"text":"帮助"', '{"file_key":5}',
    '{"content":[[null]]}', '{"content":[[1,"x",[],{"tag":null}]]}', '{"title":5,"content":"x"}', '{"zh_cn":null}', '{"zh_cn":{"content":[null,[{"tag":"text","text":{}}]]}}']) {
    for (const type of ['text', 'file', 'image', 'post', 'sticker', '', 'audio']) {
      const ev = base();
      const m = ev.event.message as Record<string, unknown>;
      m.content = content;
      m.message_type = type;
      probes.push({ category: 'wrong types (signed)', ...signedEvent(ev, true), expect: 'any', messageId: String(m.message_id) });
    }
  }

  // 6. 1 MB strings.
  const mb = 'あ'.repeat(1024 * 1024 / 3 + 10); // > 1 MB in UTF-8
  for (const where of ['event_id', 'text', 'challenge', 'raw'] as const) {
    for (let k = 0; k < 2; k++) {
      const body =
        where === 'raw' ? mb : where === 'challenge' ? JSON.stringify({ type: 'url_verification', token: TEST_VERIFICATION_TOKEN, challenge: mb })
          : (() => {
              const ev = where === 'text' ? messageEvent({ text: mb, messageId: freshId('om') }) : base();
              if (where === 'event_id') ev.header.event_id = mb;
              return JSON.stringify(ev);
            })();
      probes.push({ category: '1 MB strings', body, headers: k === 0 ? signRaw(body) : JSON_CT, expect: 'refuse' });
    }
  }
  //    … and just under the limit: a signed message of ~0.9 MB (may be answered, once).
  {
    const ev = messageEvent({ text: '选'.repeat(300_000), messageId: freshId('om_big') });
    probes.push({ category: '1 MB strings', ...signedEvent(ev, false), expect: 'any', messageId: (ev.event.message as { message_id: string }).message_id });
  }

  // 7. Invalid base64 / ciphertext in `encrypt`.
  const BAD_ENC: unknown[] = ['!!!!', '', '====', 'a', 'YQ', 'YWJj', randomBytes(15).toString('base64'), randomBytes(16).toString('base64'),
    randomBytes(48).toString('base64'), '%%%' + randomBytes(32).toString('base64'), 0, null, true, [], {}, ['x'], 'AAAA'.repeat(1000),
    larkEncrypt('another-key', JSON.stringify(base())), larkEncrypt(TEST_ENCRYPT_KEY, 'not json'), larkEncrypt(TEST_ENCRYPT_KEY, '[]'),
    larkEncrypt(TEST_ENCRYPT_KEY, 'null'), larkEncrypt(TEST_ENCRYPT_KEY, '"x"'), larkEncrypt(TEST_ENCRYPT_KEY, JSON.stringify(base())).slice(0, -4),
    larkEncrypt(TEST_ENCRYPT_KEY, JSON.stringify(base())).replace(/[A-Z]/g, '-')];
  for (let i = 0; i < n(150); i++) {
    const body = JSON.stringify({ encrypt: i < BAD_ENC.length ? BAD_ENC[i] : randomEncrypt(i) });
    probes.push({ category: 'invalid encrypt', body, headers: i % 3 === 2 ? JSON_CT : signRaw(body), expect: 'refuse' });
  }

  // 8. Wrong keys, signatures, timestamps, tokens.
  for (let i = 0; i < n(400); i++) {
    const ev = base();
    const enc = i % 2 === 0;
    const r = signedEvent(ev, enc);
    const h = { ...r.headers };
    let body = r.body;
    switch (i % 10) {
      case 0: Object.assign(h, signRaw(body, 'wrong-key')); break;
      case 1: h['x-lark-signature'] = h['x-lark-signature']!.replace(/^./, (c) => (c === '0' ? '1' : '0')); break;
      case 2: Object.assign(h, signRaw(body, TEST_ENCRYPT_KEY, Date.now() - 10 * 60_000)); break;
      case 3: Object.assign(h, signRaw(body, TEST_ENCRYPT_KEY, Date.now() + 10 * 60_000)); break;
      case 4: h['x-lark-request-timestamp'] = pick(['NaN', '', '-1', '1e99', 'Infinity', '0x10', ' ']); break;
      case 5: delete h[pick(['x-lark-request-nonce', 'x-lark-signature', 'x-lark-request-timestamp'])]; break;
      case 6: h['x-lark-signature'] = pick(['', 'x', h['x-lark-signature']!.toUpperCase().slice(1), 'z'.repeat(64), h['x-lark-signature']! + '00']); break;
      case 7: for (const k of ['x-lark-request-nonce', 'x-lark-signature', 'x-lark-request-timestamp']) delete h[k]; break; // unsigned
      case 8: { // signed correctly, wrong verification token
        ev.header.token = pick(['', 'vtok_other', TEST_VERIFICATION_TOKEN + ' ', TEST_VERIFICATION_TOKEN.toUpperCase()]);
        const s = signedEvent(ev, enc);
        body = s.body;
        Object.assign(h, s.headers);
        break;
      }
      case 9: { // signed correctly, encrypted with another key
        body = JSON.stringify({ encrypt: larkEncrypt('another-encrypt-key', JSON.stringify(ev)) });
        Object.assign(h, signRaw(body));
        break;
      }
    }
    probes.push({ category: 'wrong keys/signatures', body, headers: h, expect: 'refuse' });
  }

  // 9. Random JSON, signed: any shape (keys like __proto__ included), and envelopes of every event type with a random event.
  const TYPES = ['im.message.receive_v1', 'card.action.trigger', 'application.bot.menu_v6', 'im.chat.member.bot.added_v1', 'url_verification', 'im.message.message_read_v1', 'x.unknown'];
  const randomJsonProbe = (i: number) => {
    let payload: unknown;
    let messageId: string | undefined;
    if (i % 2 === 0) payload = randomJson(0);
    else {
      const eventType = pick(TYPES);
      const event = (randomJson(1, true) ?? {}) as Record<string, unknown>;
      if (eventType === 'im.message.receive_v1') {
        messageId = freshId('om_rj');
        event.message = { ...(typeof event.message === 'object' && event.message ? event.message : {}), message_id: messageId };
      }
      payload = { schema: '2.0', header: { event_id: freshId('ev_rj'), event_type: eventType, token: TEST_VERIFICATION_TOKEN, create_time: String(Date.now()) }, event };
    }
    const body = i % 3 === 0 ? JSON.stringify({ encrypt: larkEncrypt(TEST_ENCRYPT_KEY, JSON.stringify(payload)) }) : JSON.stringify(payload);
    probes.push({ category: 'random JSON (signed)', body, headers: signRaw(body), expect: 'any', messageId });
  };
  for (let i = 0; i < n(800); i++) randomJsonProbe(i);

  // 10. Wrong types in every field of a card callback, a menu event and a bot-added event (signed).
  const others: { ev: Record<string, unknown>; mayTo: (ev: Record<string, unknown>) => string[] }[] = [
    { ev: cardActionEvent({ value: { action: 'checkin_submit' }, formValue: { village: '1', stage: 'audit', status: '已完成' } }) as unknown as Record<string, unknown>, mayTo: () => [] },
    { ev: cardActionEvent({ value: { action: 'reminder_snooze', item: 'stage:1:audit', days: 1 } }) as unknown as Record<string, unknown>, mayTo: () => [] },
    {
      ev: { schema: '2.0', header: { event_id: 'x', event_type: 'application.bot.menu_v6', token: TEST_VERIFICATION_TOKEN }, event: { operator: { operator_id: { open_id: 'ou_menu_fault', union_id: 'on_x' } }, event_key: 'my', timestamp: 1 } },
      mayTo: (ev) => [String(((ev.event as { operator?: { operator_id?: { open_id?: unknown } } })?.operator?.operator_id?.open_id) ?? '')],
    },
    { ev: fixture('im.chat.member.bot.added_v1.json'), mayTo: (ev) => [String((ev.event as { chat_id?: unknown })?.chat_id ?? '')] },
  ];
  for (const o of others) {
    for (const p of paths(o.ev)) {
      for (const v of [...WRONG, undefined]) {
        const ev = structuredClone(o.ev) as Record<string, unknown> & { header: Record<string, unknown> };
        ev.header.event_id = freshId('ev_other');
        if (p.join('.') === 'header.event_id') continue;
        setPath(ev, p, v, v === undefined);
        probes.push({ category: 'wrong types, other events (signed)', ...signedEvent(ev, random() < 0.5), expect: 'any', mayTo: o.mayTo(ev) });
      }
    }
  }

  // Top up to exactly FAULT_BODIES.
  for (let i = 0; probes.length < BODIES; i++) {
    if (i % 2) randomJsonProbe(i);
    else {
      const body = randomBytes(Math.floor(random() * 4096));
      probes.push({ category: 'random bytes', body, headers: i % 3 === 0 ? signRaw(body) : JSON_CT, expect: 'refuse' });
    }
  }

  // Shuffle, so the hostile events land between the junk.
  for (let i = probes.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [probes[i], probes[j]] = [probes[j]!, probes[i]!];
  }
  return probes;
}

const results: AttackResult[] = [];
afterAll(() => recordResults(inject('faultResultsDir'), 'bad-input', results));

describe('fault: bad input on POST /lark/events', () => {
  it('answers every generated body with 4xx or 200, stays up, and replies only to the signed events', async () => {
    const started = Date.now();
    const fake = await FakeLark.start();
    const dir = tempDir('hj-fault-input-');
    let svc: Service | undefined;
    const probes = buildProbes();
    const outcome: { probe: Probe; status: number; error?: string }[] = [];
    try {
      const seed = openDb(join(dir, 'huanjie.db'));
      seedCampaign(seed, CAMPAIGN);
      seed.close();
      svc = await startService({ dataDir: dir, fake });
      const url = svc.base + '/lark/events';
      let next = 0;
      const worker = async () => {
        while (next < probes.length) {
          const probe = probes[next++]!;
          try {
            const res = await fetch(url, { method: 'POST', body: probe.body, headers: probe.headers, signal: AbortSignal.timeout(15_000) });
            await res.arrayBuffer();
            outcome.push({ probe, status: res.status });
          } catch (e) {
            outcome.push({ probe, status: 0, error: (e as Error).message });
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      const barrageMs = Date.now() - started;

      const alive = svc.child.exitCode === null && svc.child.signalCode === null;
      const mustReply = new Set(probes.filter((p) => p.expect === 'reply').map((p) => p.messageId!));
      // How many answers each receiver may get: one per accepted event addressed to it.
      const allowed = new Map<string, number>();
      for (const o of outcome) {
        if (o.status !== 200) continue;
        for (const k of [...(o.probe.messageId ? [o.probe.messageId] : []), ...(o.probe.mayTo ?? []).filter(Boolean).map((id) => `(to ${id})`)]) allowed.set(k, (allowed.get(k) ?? 0) + 1);
      }
      // Wait for the replies to the hostile events, then a little longer for any stray send.
      await waitUntil(() => [...mustReply].every((id) => fake.sent.some((m) => m.reply_to === id)) || !alive, 120_000, 'replies to the hostile events').catch(() => undefined);
      await sleep(3000);
      const health = await fetch(svc.base + '/healthz').then((r) => r.status, () => 0);
      const ready = await fetch(svc.base + '/readyz').then((r) => r.status, () => 0);

      // Tally per category.
      const cats = new Map<string, { tries: number; failures: number; statuses: Map<number, number>; detail: string[] }>();
      const fail = (cat: string, why: string) => {
        const c = cats.get(cat)!;
        c.failures++;
        if (c.detail.length < 5) c.detail.push(why);
      };
      for (const o of outcome) {
        const c = cats.get(o.probe.category) ?? { tries: 0, failures: 0, statuses: new Map(), detail: [] };
        cats.set(o.probe.category, c);
        c.tries++;
        c.statuses.set(o.status, (c.statuses.get(o.status) ?? 0) + 1);
        const ok4xx = o.status >= 400 && o.status < 500;
        if (!(ok4xx || o.status === 200)) fail(o.probe.category, `status ${o.status}${o.error ? ' ' + o.error : ''}`);
        else if (o.probe.expect === 'refuse' && !ok4xx) fail(o.probe.category, `accepted (200) a body that must be refused`);
        else if (o.probe.expect === 'reply' && o.status !== 200) fail(o.probe.category, `status ${o.status} for a signed event`);
      }
      // What Lark saw.
      const repliesTo = new Map<string, number>();
      for (const m of fake.sent) repliesTo.set(m.reply_to ?? `(to ${m.receive_id})`, (repliesTo.get(m.reply_to ?? `(to ${m.receive_id})`) ?? 0) + 1);
      // Everything the service means to send (the outbox, delivered or not yet): the complete record for stray sends.
      const written = new Map<string, number>();
      {
        const db = openDb(join(dir, 'huanjie.db'), { readonly: true });
        for (const m of db.prepare(`SELECT reply_to, receive_id FROM outbox`).all() as { reply_to: string | null; receive_id: string }[]) {
          const k = m.reply_to ?? `(to ${m.receive_id})`;
          written.set(k, (written.get(k) ?? 0) + 1);
        }
        db.close();
      }
      const hostile = cats.get('hostile text (signed)')!;
      for (const p of probes.filter((x) => x.expect === 'reply')) {
        const replies = fake.sent.filter((m) => m.reply_to === p.messageId);
        const text = replies.map((m) => JSON.stringify(m.content)).join('');
        if (replies.length !== 1) fail(p.category, `${replies.length} replies to ${p.messageId}`);
        else if (text.length < 10 || /\[object Object\]|TypeError|at \S+ \(|undefined|NaN/.test(text)) fail(p.category, `odd reply to ${p.messageId}: ${text.slice(0, 120)}`);
      }
      const unexpected = [...new Map([...written, ...repliesTo].map(([k]) => [k, Math.max(written.get(k) ?? 0, repliesTo.get(k) ?? 0)]))].filter(
        ([to, n]) => n > (mustReply.has(to) ? 1 : (allowed.get(to) ?? 0)),
      );

      const check = openDb(join(dir, 'huanjie.db'), { readonly: true });
      const inbox = check.prepare(`SELECT status, COUNT(*) AS n FROM received_events GROUP BY status`).all() as { status: string; n: number }[];
      const outbox = check.prepare(`SELECT status, COUNT(*) AS n FROM outbox GROUP BY status`).all() as { status: string; n: number }[];
      const failedEvents = check.prepare(`SELECT event_id, payload, error FROM received_events WHERE status = 'failed'`).all() as { event_id: string; payload: string; error: string }[];
      const integrity = check.pragma('integrity_check', { simple: true });
      check.close();
      for (const f of failedEvents) process.stderr.write(`inbox: event failed in its handler: ${f.error}\n  payload: ${f.payload.slice(0, 600)}\n`);
      const stop = await stopService(svc);
      svc = undefined;

      const fmt = (m: Map<number, number>) => [...m].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ');
      for (const [cat, c] of [...cats].sort()) {
        const extra = cat === 'hostile text (signed)' ? `; ${hostile.tries} must-reply events → ${[...mustReply].filter((id) => repliesTo.get(id) === 1).length} answered once` : '';
        results.push({ attack: `bad input: ${cat}`, tries: c.tries, failures: c.failures, notes: fmt(c.statuses) + extra + (c.detail.length ? `; e.g. ${c.detail.join(' | ')}` : '') });
      }
      const stray = unexpected.length;
      // An accepted event whose handler threw: the user gets no answer at all (marked 'failed', never retried).
      results.push({
        attack: 'bad input: handler errors on accepted events',
        tries: inbox.reduce((t, r) => t + r.n, 0),
        failures: failedEvents.length,
        notes: failedEvents.length ? [...new Set(failedEvents.map((f) => f.error))].join(' | ') : 'none',
      });
      results.push({
        attack: 'bad input: sends to Lark / process',
        tries: 1,
        failures: stray + (alive ? 0 : 1) + (health === 200 ? 0 : 1) + (integrity === 'ok' ? 0 : 1) + (stop.code === 0 ? 0 : 1),
        notes:
          `${fake.sent.length} messages (${mustReply.size} required, ${fake.sent.length - [...mustReply].filter((id) => repliesTo.has(id)).length} to accepted malformed events); ` +
          `unexpected ${unexpected.length}${unexpected.length ? ` (${unexpected.slice(0, 3).map(([k, n]) => `${k}×${n}`).join(', ')})` : ''}; alive ${alive}; healthz ${health}, readyz ${ready}; inbox ${inbox.map((r) => `${r.status}=${r.n}`).join(',')}; ` +
          `outbox ${outbox.map((r) => `${r.status}=${r.n}`).join(',')}; integrity ${String(integrity)}; clean stop ${stop.code === 0}; barrage ${(barrageMs / 1000).toFixed(1)} s, total ${((Date.now() - started) / 1000).toFixed(1)} s`,
      });

      for (const [cat, c] of cats) expect(c.failures, `${cat}: ${c.detail.join(' | ')}`).toBe(0);
      expect(failedEvents.map((f) => f.error), 'handlers that threw on an accepted event').toEqual([]);
      expect(unexpected, 'sends that are not one reply to an accepted event').toEqual([]);
      expect(alive).toBe(true);
      expect(health).toBe(200);
      expect(integrity).toBe('ok');
      expect(stop.code).toBe(0);
    } catch (e) {
      if (svc) process.stderr.write(`service output:\n${svc.output().slice(-5000)}\n`);
      if (!results.length) results.push({ attack: 'bad input', tries: probes.length, failures: 1, notes: String(e).slice(0, 300) });
      throw e;
    } finally {
      if (svc) await stopService(svc, 'SIGKILL');
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
