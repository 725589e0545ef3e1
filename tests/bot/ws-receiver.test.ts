import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeLark } from '../helpers/fake-lark.js';
import { FakeLarkWs, FRAME_CONTROL, frameHeaders, type FakeWsConnection } from '../helpers/fake-lark-ws.js';
import { cardActionEvent, messageEvent } from '../helpers/events.js';
import { startTestRuntime, TEST_APP_ID, TEST_APP_SECRET, waitFor, type TestEnv } from '../helpers/test-runtime.js';

/**
 * LARK_EVENT_MODE=ws end to end: the real runtime with the real SDK WSClient,
 * against a fake long-connection service (endpoint discovery + WebSocket with
 * pbbp2 frames) whose REST side is the usual FakeLark.
 */

type Msg = ReturnType<typeof messageEvent>;
const imMessageId = (ev: Msg) => (ev.event as { message: { message_id: string } }).message.message_id;

async function startFakes() {
  const fake = await FakeLark.start();
  const lws = await FakeLarkWs.start({ rest: fake, appId: TEST_APP_ID, appSecret: TEST_APP_SECRET });
  return { fake, lws };
}

describe('LARK_EVENT_MODE=ws (real WSClient, fake long connection)', () => {
  let fake: FakeLark;
  let lws: FakeLarkWs;
  let t: TestEnv;
  let conn: FakeWsConnection;
  let runtimeClosed: boolean;

  beforeEach(async () => {
    ({ fake, lws } = await startFakes());
    t = await startTestRuntime({ fake, env: { LARK_EVENT_MODE: 'ws', LARK_DOMAIN: lws.url } });
    runtimeClosed = false;
    conn = await lws.waitForConnection();
  });
  afterEach(async () => {
    if (!runtimeClosed) await t.close({ remove: true });
    await lws.close();
    await fake.close();
  });

  /** Waits until the bot's reply has been sent and nothing else is running. */
  async function settle(expectedSent = 1) {
    await waitFor(() => fake.sent.length >= expectedSent, 5000, `${expectedSent} message(s) at the fake`);
    await t.rt.idle();
  }

  it('connects with our credentials, pings with the service id it was given, and REST goes through the same domain', async () => {
    expect(lws.endpointRequests).toEqual([{ AppID: TEST_APP_ID, AppSecret: TEST_APP_SECRET, code: 0 }]);
    expect(conn.deviceId).not.toBe('');
    // The first ping goes out as soon as the socket opens.
    await waitFor(() => conn.pings > 0, 5000, 'a ping');
    const ping = conn.frames.find((f) => f.method === FRAME_CONTROL)!;
    expect(frameHeaders(ping)).toEqual({ type: 'ping' });
    expect(ping.service).toBe(lws.serviceId);
    // bot identity was fetched through the front door (the SDK has one domain).
    expect(lws.forwarded).toContain('GET /open-apis/bot/v3/info');
    expect(t.rt.botOpenId).toBe(fake.botOpenId);
  });

  it('a p2p 帮助 over the long connection is ACKed with code 200 and answered exactly once over HTTP', async () => {
    const ev = messageEvent({ text: '帮助' });
    const ack = await lws.push(ev);
    expect(ack.code).toBe(200);
    expect(ack.data).toBeUndefined(); // messages have no answer body
    expect(ack.headers.type).toBe('event');
    expect(ack.headers.biz_rt).toBeDefined();
    expect(lws.acks).toHaveLength(1);

    await settle();
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]).toMatchObject({ reply_to: imMessageId(ev), msg_type: 'interactive' });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.authorized).toBe(true);
    expect(lws.forwarded.filter((r) => r.includes('/open-apis/im/v1/messages'))).toEqual([
      `POST /open-apis/im/v1/messages/${imMessageId(ev)}/reply`,
    ]);
    expect(t.rt.repos.events.countByStatus()).toEqual({ done: 1 });
  });

  it('a re-pushed event (same event_id) and the same message under a new event_id still get one reply', async () => {
    const ev = messageEvent({ text: '帮助' });
    const again = messageEvent({ text: '帮助', messageId: imMessageId(ev) });
    expect(again.header.event_id).not.toBe(ev.header.event_id);

    const acks = [await lws.push(ev), await lws.push(ev), await lws.push(again)];
    // Duplicates are acknowledged too, or Lark would keep re-pushing them.
    expect(acks.map((a) => a.code)).toEqual([200, 200, 200]);

    await settle();
    expect(fake.sent).toHaveLength(1);
    expect(fake.requests).toHaveLength(1); // not merely collapsed by the fake's uuid dedupe
    expect(t.rt.repos.outbox.maxId()).toBe(1);
    expect(t.rt.repos.events.countByStatus()).toEqual({ done: 1 });
    expect(t.rt.repos.events.get(again.header.event_id as string)).toBeUndefined();
    // The intake itself refused both repeats (the outbox's per-intent idempotency would hide a miss here).
    expect(t.logs.filter((l) => l.includes('"msg":"duplicate event ignored"'))).toHaveLength(2);
  });

  it('an event split into 2 fragments (sum=2, sent out of order, cut inside a UTF-8 character) is merged and handled', async () => {
    const ev = messageEvent({ text: '帮助' });
    const bytes = Buffer.from(JSON.stringify(ev), 'utf8');
    const cut = bytes.indexOf(Buffer.from('帮', 'utf8')) + 1; // inside the 3-byte character
    expect(cut).toBeGreaterThan(1);

    const ack = await lws.push(ev, { splitAt: [cut], reverse: true });
    expect(ack.code).toBe(200);
    expect(ack.headers.sum).toBe('2');

    await settle();
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]!.reply_to).toBe(imMessageId(ev));
    const row = t.rt.repos.events.get(ev.header.event_id as string);
    // Stored whole (the text cut inside a character came through intact), less the verification token.
    const { token: _token, ...header } = ev.header as Record<string, unknown>;
    expect(row && JSON.parse(row.payload)).toEqual({ ...ev, header });
  });

  it('a card.action.trigger returns its answer in the ACK payload (base64 JSON)', async () => {
    t.rt.cardActions.set('ping', () => ({ toast: { type: 'success', content: 'pong' } }));
    const ack = await lws.push(cardActionEvent({ value: { action: 'ping' } }));
    expect(ack.code).toBe(200);
    expect(ack.data).toEqual({ toast: { type: 'success', content: 'pong' } });
    const raw = JSON.parse(Buffer.from(ack.frame.payload!).toString('utf8')) as { code: number; data: string };
    expect(JSON.parse(Buffer.from(raw.data, 'base64').toString('utf8'))).toEqual(ack.data);
    await t.rt.idle();
    expect(fake.sent).toHaveLength(0);
  });

  it('when Lark drops the connection, the client fetches a new ticket, reconnects, and events flow again', async () => {
    conn.drop();
    await conn.whenClosed;
    const second = await lws.waitForConnection({ after: 1 });
    expect(second).not.toBe(conn);
    expect(lws.endpointRequests.map((r) => r.code)).toEqual([0, 0]);
    expect(lws.refusedUpgrades).toBe(0);

    const ev = messageEvent({ text: '帮助' });
    expect((await lws.push(ev)).code).toBe(200);
    await settle();
    expect(fake.sent).toHaveLength(1);
  });

  it('closing the runtime closes the socket and the client does not reconnect', async () => {
    runtimeClosed = true;
    await t.close({ remove: true });
    // Runtime.stop() calls WSClient.close({force:true}): a terminate, so the fake sees 1006 (no close frame).
    const code = await Promise.race([
      conn.whenClosed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the fake never saw the socket close')), 3000).unref()),
    ]);
    expect(code).toBeGreaterThanOrEqual(1000);
    expect(conn.closed).toBe(true);
    expect(lws.connection).toBeUndefined();
    expect(lws.connections).toHaveLength(1);
    expect(lws.endpointRequests).toHaveLength(1);
  });
});

/**
 * The real proof that nothing (ping loop, reconnect timer, socket, cache sweep)
 * keeps the process alive after close: a separate Node process runs the runtime
 * in ws mode against the fakes here, handles one event, closes on request and
 * must then exit by itself, without process.exit().
 */
describe('LARK_EVENT_MODE=ws process lifetime', () => {
  let fake: FakeLark;
  let lws: FakeLarkWs;

  beforeEach(async () => {
    ({ fake, lws } = await startFakes());
  });
  afterEach(async () => {
    await lws.close();
    await fake.close();
  });

  const CHILD = `
    const { startTestRuntime } = await import(process.env.HJ_TEST_RUNTIME);
    const t = await startTestRuntime({ env: JSON.parse(process.env.HJ_ENV) });
    process.stdout.write('started\\n');
    process.stdin.once('data', async () => {
      process.stdin.destroy();
      await t.close({ remove: true });
      process.stdout.write('closed\\n');
    });
  `;

  it('a process whose runtime is closed exits on its own', async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: root,
      env: {
        ...process.env,
        HJ_TEST_RUNTIME: new URL('../helpers/test-runtime.ts', import.meta.url).href,
        HJ_ENV: JSON.stringify({
          LARK_APP_ID: TEST_APP_ID,
          LARK_APP_SECRET: TEST_APP_SECRET,
          LARK_DOMAIN: lws.url,
          LARK_EVENT_MODE: 'ws',
        }),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let exitCode: number | null | undefined;
    const exited = new Promise<void>((r) => child.on('exit', (c) => ((exitCode = c), r())));
    try {
      const conn = await lws.waitForConnection({ timeoutMs: 15_000 });
      expect((await lws.push(messageEvent({ text: '帮助' }))).code).toBe(200);
      await waitFor(() => fake.sent.length === 1, 5000, 'the reply from the child');

      child.stdin.write('close\n');
      await waitFor(() => out.includes('closed') || exitCode !== undefined, 10_000, `the child to close (stderr: ${err})`);
      expect(out).toContain('closed');
      await conn.whenClosed;
      const closedAt = Date.now();
      await waitFor(() => exitCode !== undefined, 5000, 'the child to exit by itself after close (something keeps it alive)');
      expect(exitCode, err).toBe(0);
      expect(Date.now() - closedAt).toBeLessThan(5000);
      expect(lws.connections).toHaveLength(1);
      expect(lws.endpointRequests).toHaveLength(1);
    } finally {
      if (exitCode === undefined) child.kill('SIGKILL');
      await exited;
    }
  }, 30_000);
});

describe('LARK_EVENT_MODE=ws refused by Lark', () => {
  it('says so at error level when the long connection is refused', async () => {
    const fake = await FakeLark.start();
    const lws = await FakeLarkWs.start({ rest: fake, appId: TEST_APP_ID, appSecret: 'not-our-secret' });
    const t = await startTestRuntime({ fake, env: { LARK_EVENT_MODE: 'ws', LARK_DOMAIN: lws.url } });
    try {
      await waitFor(
        () => t.logs.some((l) => JSON.parse(l).level >= 50 && l.includes('long connection')),
        10_000,
        'an error-level log line about the long connection',
      );
    } finally {
      await t.close({ remove: true });
      await lws.close();
      await fake.close();
    }
  });
});
