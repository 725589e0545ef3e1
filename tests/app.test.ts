import { afterEach, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestEnv } from './helpers/test-runtime.js';
import { larkRequest } from './helpers/lark-sign.js';
import { messageEvent } from './helpers/events.js';
import { TEST_ENCRYPT_KEY } from './helpers/test-runtime.js';

describe('operations routes', () => {
  let t: TestEnv;
  afterEach(async () => t.close({ remove: true }));

  it('healthz answers while the process is up; readyz only once started', async () => {
    t = await startTestRuntime({ start: false });
    expect((await t.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject('/readyz')).statusCode).toBe(503);
    await t.rt.start();
    const r = await t.app.inject('/readyz');
    expect(r.statusCode).toBe(200);
    expect(r.json().checks.database).toBe(true);
  });

  it('exports events received, duplicates, refusals, handler latency, outbox depth and sends', async () => {
    t = await startTestRuntime();
    const ev = messageEvent({ text: '帮助' });
    for (let i = 0; i < 2; i++) {
      const req = larkRequest(ev, { encryptKey: TEST_ENCRYPT_KEY, encrypt: true });
      await t.app.inject({ method: 'POST', url: '/lark/events', payload: req.body, headers: req.headers });
    }
    await t.app.inject({ method: 'POST', url: '/lark/events', payload: 'garbage' });
    await t.rt.idle();
    const text = (await t.app.inject('/metrics')).body;
    expect(text).toMatch(/huanjie_events_received_total\{type="im.message.receive_v1"\} 1/);
    expect(text).toMatch(/huanjie_events_duplicate_total\{type="im.message.receive_v1"\} 1/);
    expect(text).toMatch(/huanjie_events_refused_total\{reason="not_json"\} 1/);
    expect(text).toMatch(/huanjie_handler_duration_seconds_count\{type="im.message.receive_v1",outcome="ok"\} 1/);
    expect(text).toMatch(/huanjie_outbox_depth 0/);
    expect(text).toMatch(/huanjie_sends_total\{result="offline"\} 1/);
  });
});
