import type * as Lark from '@larksuiteoapi/node-sdk';
import { AppError } from '../errors.js';

/**
 * Lark CardKit (cardkit/v1), for answers that appear while they are written: a card
 * entity is created (POST /cards) in streaming mode, sent as a reply whose content is
 * {"type":"card","data":{"card_id":…}}, its markdown element's text is replaced with
 * the text so far (PUT /cards/:id/elements/:element_id/content, typewriter effect),
 * then streaming is closed (PATCH /cards/:id/settings) and the card is replaced by the
 * final one (PUT /cards/:id). Every call after create carries a strictly increasing
 * `sequence`. Lark allows 10 operations per second on one card: text updates are
 * spaced at least STREAM_INTERVAL_MS apart.
 */
export const STREAM_INTERVAL_MS = 300;

/** A CardKit call Lark refused or that did not arrive; the answer then goes as a normal card. */
export class CardKitError extends AppError {
  constructor(
    readonly op: string,
    readonly larkCode: number | null,
    message: string,
  ) {
    super('lark_api', '飞书卡片暂时无法逐句显示，已改为发送完整答复。', { detail: `cardkit ${op}: ${message}` });
    this.name = 'CardKitError';
  }
}

export interface CardKit {
  create(card: Record<string, unknown>): Promise<string>;
  streamText(cardId: string, elementId: string, content: string, sequence: number): Promise<void>;
  settings(cardId: string, settings: Record<string, unknown>, sequence: number): Promise<void>;
  update(cardId: string, card: Record<string, unknown>, sequence: number): Promise<void>;
  /** Sends the card entity as a reply to a message; `uuid` makes a retried send deliver once. */
  replyWithCard(messageId: string, cardId: string, uuid: string): Promise<string | null>;
}

type Res = { code?: number; msg?: string; data?: Record<string, unknown> };

async function call<T extends Res>(op: string, p: Promise<T>): Promise<T> {
  let res: T;
  try {
    res = await p;
  } catch (e) {
    const err = e as { message?: string; response?: { status?: number; data?: { code?: number; msg?: string } } };
    const d = err.response?.data;
    throw new CardKitError(op, typeof d?.code === 'number' ? d.code : null, `HTTP ${err.response?.status ?? '-'} ${d?.msg ?? err.message ?? String(e)}`.slice(0, 300));
  }
  if (res.code !== undefined && res.code !== 0) throw new CardKitError(op, res.code, `code ${res.code}: ${res.msg ?? ''}`.slice(0, 300));
  return res;
}

/** CardKit through the official SDK (client.cardkit.v1.*), which the fake Lark in tests also serves. */
export function larkCardKit(client: Lark.Client): CardKit {
  const kit = client.cardkit.v1;
  return {
    async create(card) {
      const r = await call('create', kit.card.create({ data: { type: 'card_json', data: JSON.stringify(card) } }));
      const id = r.data?.card_id;
      if (typeof id !== 'string' || !id) throw new CardKitError('create', r.code ?? null, 'no card_id in the answer');
      return id;
    },
    async streamText(cardId, elementId, content, sequence) {
      await call('content', kit.cardElement.content({ path: { card_id: cardId, element_id: elementId }, data: { content, sequence } }));
    },
    async settings(cardId, settings, sequence) {
      await call('settings', kit.card.settings({ path: { card_id: cardId }, data: { settings: JSON.stringify(settings), sequence } }));
    },
    async update(cardId, card, sequence) {
      await call('update', kit.card.update({ path: { card_id: cardId }, data: { card: { type: 'card_json', data: JSON.stringify(card) }, sequence } }));
    },
    async replyWithCard(messageId, cardId, uuid) {
      const r = await call(
        'send',
        client.im.message.reply({
          path: { message_id: messageId },
          data: { msg_type: 'interactive', content: JSON.stringify({ type: 'card', data: { card_id: cardId } }), uuid },
        }) as Promise<Res>,
      );
      const id = r.data?.message_id;
      return typeof id === 'string' ? id : null;
    },
  };
}

/**
 * One card being streamed. `push` may be called as often as text arrives: only the
 * latest text is sent, at most once per interval; `finish` sends what is left, closes
 * streaming and puts the final card in. A failure anywhere marks the stream failed;
 * the caller then sends a normal card instead.
 */
export class StreamingCard {
  private cardId: string | undefined;
  private sequence = 0;
  private chain: Promise<unknown>;
  private latest = '';
  private sentText = '';
  private lastSentAt = -Infinity;
  private pending = false;
  private broken: Error | undefined;
  /** Whether the card message reached Lark (the user may be looking at it). */
  delivered = false;

  constructor(
    private readonly kit: CardKit,
    private readonly opts: {
      card: Record<string, unknown>;
      elementId: string;
      send: (cardId: string) => Promise<unknown>;
      intervalMs?: number;
    },
  ) {
    this.chain = this.run(async () => {
      this.cardId = await kit.create(opts.card);
      await opts.send(this.cardId);
      this.delivered = true;
    });
  }

  get failure(): Error | undefined {
    return this.broken;
  }

  private run(step: () => Promise<unknown>): Promise<unknown> {
    const next = (this.chain ?? Promise.resolve()).then(async () => {
      if (this.broken) return;
      try {
        await step();
      } catch (e) {
        this.broken = e instanceof Error ? e : new Error(String(e));
      }
    });
    this.chain = next;
    return next;
  }

  /** The whole text so far (CardKit types out what was added to the previous text). */
  push(text: string): void {
    this.latest = text;
    if (this.pending || this.broken) return;
    this.pending = true;
    // One update waits in line at a time; it sends whatever text is latest when its turn comes,
    // spaced from the previous update's start (not from when it was asked for).
    void this.run(async () => {
      const wait = this.lastSentAt + (this.opts.intervalMs ?? STREAM_INTERVAL_MS) - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.pending = false;
      const latest = this.latest;
      if (latest === this.sentText) return;
      this.sentText = latest;
      await this.kit.streamText(this.cardId!, this.opts.elementId, latest, ++this.sequence);
      // Counted from the answer: Lark sees the next update at least the interval after this one arrived.
      this.lastSentAt = Date.now();
    });
  }

  /** Closes streaming and shows `finalCard`; false when the card could not be streamed or finished. */
  async finish(finalCard: Record<string, unknown>): Promise<boolean> {
    await this.run(async () => {
      await this.kit.settings(this.cardId!, { config: { streaming_mode: false } }, ++this.sequence);
      await this.kit.update(this.cardId!, finalCard, ++this.sequence);
    });
    return !this.broken;
  }
}

/** After CardKit fails (no permission, not enabled), normal cards for a while instead of a failing call per answer. */
export class CardKitAvailability {
  private downUntil = 0;
  constructor(private readonly pauseMs = 10 * 60_000) {}
  available(now = Date.now()): boolean {
    return now >= this.downUntil;
  }
  failed(now = Date.now()): void {
    this.downUntil = now + this.pauseMs;
  }
}
