import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeLark } from '../helpers/fake-lark.js';
import { messageEvent } from '../helpers/events.js';
import { larkRequest } from '../helpers/lark-sign.js';
import { startTestRuntime, TEST_ENCRYPT_KEY, type TestEnv } from '../helpers/test-runtime.js';
import { FIXTURES, chatCompletion, sendJson, startFakeOpenAi } from './helpers.js';

/**
 * Answers streamed into a CardKit card: the real runtime, the real SDK against the fake
 * Lark (cardkit/v1 endpoints), ChatOpenAI streaming from a fake OpenAI-compatible server.
 */
let fake: FakeLark;
let t: TestEnv;
let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await t?.close({ remove: true });
  await fake?.close();
  for (const c of closers) await c();
  closers = [];
});

/** Writes an OpenAI chat-completion stream (SSE), a few characters per chunk, paced like a model. */
async function streamSse(res: ServerResponse, text: string, perChunk = 6, gapMs = 60): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; i += perChunk) {
    if (res.destroyed) return;
    const delta = { role: 'assistant', content: chars.slice(i, i + perChunk).join('') };
    res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'fake', choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`);
    await new Promise((r) => setTimeout(r, gapMs));
  }
  res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'fake', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
  res.end('data: [DONE]\n\n');
}

/** A model whose answer (built from the passage number holding 第三条) is streamed when asked to stream. */
async function startModel(answer: (n: number) => string) {
  const model = await startFakeOpenAi(async (_path, body, res) => {
    const prompt = JSON.stringify(body.messages);
    if (!prompt.includes('只能依据下面给出的【资料】')) return sendJson(res, 200, chatCompletion('花名册 张榜 期限'));
    const n = Number(/\[(\d+)\]《[^》]*》第三条/.exec(JSON.parse(prompt).map((m: { content: string }) => m.content).join('\n'))?.[1] ?? 1);
    if (body.stream) return streamSse(res, answer(n));
    sendJson(res, 200, chatCompletion(answer(n)));
  });
  closers.push(model.close);
  return model;
}

async function start(env: Record<string, string>) {
  fake = await FakeLark.start();
  t = await startTestRuntime({ fake, env });
  await t.rt.knowledge.ingestPaths([FIXTURES]);
}

async function ask(text: string, messageId: string, chatId = 'oc_stream_1') {
  const req = larkRequest(messageEvent({ text, messageId, chatId }), { encryptKey: TEST_ENCRYPT_KEY, encrypt: true });
  const r = await t.app.inject({ method: 'POST', url: '/lark/events', payload: req.body, headers: req.headers });
  expect(r.statusCode).toBe(200);
  await t.rt.idle();
}

async function metricsText(): Promise<string> {
  return (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
}

const GOOD = (n: number) =>
  `选举工作小组应当在投票日的二十五日前张榜公布选民花名册[${n}]。对花名册有不同意见的，可以在张榜之日起七日内提出[${n}]。选举工作小组应当在四日内答复[${n}]。`;

// Each test starts a runtime and loads the SDK, LangChain and jieba: seconds on shared cores.
describe('LLM answers streamed into the card (CardKit)', { timeout: 30_000 }, () => {
  it('creates a card entity, replies with it, streams checked sentences ≥ 300 ms apart, closes and finalises', async () => {
    const model = await startModel(GOOD);
    await start({ LLM_BASE_URL: model.baseUrl, LLM_MODEL: 'fake-chat' });
    await ask('花名册要提前几天张榜', 'om_stream_1');

    expect(fake.sent).toHaveLength(1);
    const msg = fake.sent[0]!;
    expect(msg.reply_to).toBe('om_stream_1');
    expect(msg.content.type).toBe('card');
    const card = fake.cardOf(msg.message_id)!;
    expect(card).toBeDefined();

    const ops = fake.cardOps.filter((o) => o.cardId === card.id);
    expect(ops.every((o) => o.answeredWith === 200)).toBe(true);
    expect(ops[0]!.op).toBe('create');
    const contents = ops.filter((o) => o.op === 'content');
    expect(contents.length).toBeGreaterThanOrEqual(2);
    // Throttled: text updates at least 300 ms apart.
    for (let i = 1; i < contents.length; i++) expect(contents[i]!.at - contents[i - 1]!.at).toBeGreaterThanOrEqual(300);
    // Only whole, checked sentences are shown, each update extending the last.
    for (const c of contents) expect(c.content).toMatch(/\]。$/);
    for (let i = 1; i < contents.length; i++) expect(contents[i]!.content!.startsWith(contents[i - 1]!.content!)).toBe(true);
    // Sequences strictly increase; streaming is closed, then the final card put in.
    const seqs = ops.slice(1).map((o) => o.sequence!);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(ops.slice(-2).map((o) => o.op)).toEqual(['settings', 'update']);
    expect(JSON.parse(ops.at(-2)!.content!)).toEqual({ config: { streaming_mode: false } });
    expect(card.streaming).toBe(false);
    const final = JSON.stringify(card.card);
    expect(final).toContain('四日内答复');
    expect(final).toContain('依据');
    expect(final).toContain('qa_feedback');
    expect(final).toContain('答复由模型依据上述条文生成');
    expect(await metricsText()).toContain('huanjie_kb_card_stream_total{outcome="streamed"} 1');
  });

  it('replaces the streamed text with the offline answer when a later sentence fails the check', async () => {
    const model = await startModel((n) => `选举工作小组应当在投票日的二十五日前张榜公布选民花名册[${n}]。依据本办法第九十九条，选举工作小组应当在四日内答复[${n}]。`);
    await start({ LLM_BASE_URL: model.baseUrl, LLM_MODEL: 'fake-chat' });
    await ask('花名册要提前几天张榜', 'om_stream_2');

    expect(fake.sent).toHaveLength(1);
    const card = fake.cardOf(fake.sent[0]!.message_id)!;
    const ops = fake.cardOps.filter((o) => o.cardId === card.id);
    // The invented article was never on screen.
    expect(ops.some((o) => o.op === 'content' && o.content!.includes('九十九'))).toBe(false);
    const final = JSON.stringify(card.card);
    expect(final).not.toContain('九十九');
    expect(final).not.toContain('答复由模型依据上述条文生成');
    expect(final).toContain('依据《青禾县村级组织选举示范办法');
    expect(final).toContain('二十五日前');
    const m = await metricsText();
    expect(m).toContain('huanjie_kb_llm_rejected_total{reason="article"} 1');
    expect(m).toContain('huanjie_kb_card_stream_total{outcome="replaced"} 1');
  });

  it('sends a normal card when CardKit is not available (no cardkit:card:write)', async () => {
    const model = await startModel(GOOD);
    await start({ LLM_BASE_URL: model.baseUrl, LLM_MODEL: 'fake-chat' });
    fake.cardkitEnabled = false;
    await ask('花名册要提前几天张榜', 'om_stream_3');
    expect(fake.sent).toHaveLength(1);
    const c = fake.sent[0]!;
    expect(c.reply_to).toBe('om_stream_3');
    expect(c.content.schema).toBe('2.0');
    expect(JSON.stringify(c.content)).toContain('四日内答复');
    expect(fake.cardOps.filter((o) => o.op !== 'create')).toHaveLength(0);
    expect(await metricsText()).toContain('huanjie_kb_card_stream_total{outcome="fallback"} 1');
    // CardKit is left alone for a while: the next answer does not try it again.
    const creates = fake.cardOps.length;
    await ask('花名册有意见几天内提出', 'om_stream_4');
    expect(fake.cardOps.length).toBe(creates);
    expect(fake.sent).toHaveLength(2);
  });

  it('sends a normal card when the streamed card could not be sent', async () => {
    const model = await startModel(GOOD);
    await start({ LLM_BASE_URL: model.baseUrl, LLM_MODEL: 'fake-chat' });
    fake.failNext({ status: 400, body: { code: 230002, msg: 'bot not in chat' } });
    await ask('花名册要提前几天张榜', 'om_stream_8');
    expect(fake.requests[0]!.answeredWith).toBe(400);
    // The card entity was created but never sent; the answer went as a normal card through the outbox.
    expect(fake.cards.size).toBe(1);
    expect([...fake.cards.values()][0]!.messageId).toBeUndefined();
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]!.content.schema).toBe('2.0');
    expect(JSON.stringify(fake.sent[0]!.content)).toContain('四日内答复');
    expect(await metricsText()).toContain('huanjie_kb_card_stream_total{outcome="fallback"} 1');
  });

  it('sends one normal card with LARK_CARD_STREAMING off and offline (no model)', async () => {
    const model = await startModel(GOOD);
    await start({ LLM_BASE_URL: model.baseUrl, LLM_MODEL: 'fake-chat', LARK_CARD_STREAMING: 'false' });
    await ask('花名册要提前几天张榜', 'om_stream_5');
    expect(fake.cardOps).toHaveLength(0);
    expect(fake.sent[0]!.content.schema).toBe('2.0');
    await t.close({ remove: true });
    await fake.close();

    await start({});
    await ask('花名册要提前几天张榜', 'om_stream_6');
    await ask('那有意见几天内答复？', 'om_stream_7');
    expect(fake.cardOps).toHaveLength(0);
    expect(fake.sent).toHaveLength(2);
    expect(JSON.stringify(fake.sent[0]!.content)).toContain('二十五日前');
    // The follow-up in the same chat is answered as the previous question with the new part.
    const follow = JSON.stringify(fake.sent[1]!.content);
    expect(follow).toContain('接上一问');
    expect(follow).toContain('四日内答复');
  });
});
