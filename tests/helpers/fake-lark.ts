import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';

/**
 * A fake Lark Open Platform on 127.0.0.1 for tests: the real SDK talks to it
 * (LARK_DOMAIN = its URL). It records every request, keeps a message once per
 * uuid (as Lark does within an hour), and plays injected faults.
 */
export interface SentMessage {
  uuid: string | undefined;
  receive_id_type: string | undefined;
  receive_id: string | undefined;
  reply_to: string | undefined;
  msg_type: string;
  content: Record<string, unknown>;
  message_id: string;
  at: number;
}

export interface Fault {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Answer only after this long (a stall). */
  delayMs?: number;
}

export interface MessageRequest {
  path: string;
  uuid: string | undefined;
  authorized: boolean;
  answeredWith: number;
}

/** One call to the contact API (batch_get_id or users/:id), as the fake saw it. */
export interface ContactCall {
  api: 'batch_get_id' | 'user';
  at: number;
  mobiles: string[];
  emails: string[];
  userId?: string;
  answeredWith: number;
}

/** A user of the fake tenant: how batch_get_id and users/:id know them. */
export interface FakeUser {
  openId: string;
  mobile?: string;
  email?: string;
  /** Outside the app's visibility (可用范围/通讯录权限范围): batch_get_id answers without user_id. */
  hidden?: boolean;
}

/** A CardKit card entity (cardkit/v1/cards) as the fake keeps it. */
export interface FakeCard {
  id: string;
  card: Record<string, unknown>;
  /** config.streaming_mode: element text may be streamed only while true. */
  streaming: boolean;
  /** The last sequence accepted; every operation must carry a larger one. */
  sequence: number;
  /** The message it was sent in (a card entity is sent once). */
  messageId?: string;
}

/** One CardKit call, as the fake saw it. */
export interface CardOp {
  op: 'create' | 'content' | 'settings' | 'update';
  cardId?: string;
  at: number;
  sequence?: number;
  elementId?: string;
  content?: string;
  answeredWith: number;
  code: number;
}

export interface FakeLarkOptions {
  botOpenId?: string;
  /** batch_get_id calls allowed per second (arrivals in any 1 s); beyond it 429 + x-ogw-ratelimit-reset (default 50). */
  contactRatePerSecond?: number;
  /** Called for every message request after the queued faults are used up; return a fault to inject one. */
  chaos?: (req: { uuid: string | undefined; n: number }) => Fault | undefined;
}

export class FakeLark {
  readonly sent: SentMessage[] = [];
  readonly requests: MessageRequest[] = [];
  readonly images: { bytes: number }[] = [];
  readonly files: { bytes: number }[] = [];
  /** Make image/file uploads fail (HTTP 500) while true. */
  failUploads = false;
  tokenRequests = 0;
  url = '';
  /** The tenant's users, by open_id (tests add them with addUsers). */
  readonly users = new Map<string, FakeUser>();
  readonly contactCalls: ContactCall[] = [];
  /** The app's contact scopes: contact:user.id:readonly (batch_get_id), phone and email (fields of users/:id). */
  contactScopes = { userId: true, phone: true, email: true };
  private readonly contactFaults: Fault[] = [];
  private readonly byMobile = new Map<string, FakeUser>();
  private readonly byEmail = new Map<string, FakeUser>();
  private readonly faults: Fault[] = [];
  private readonly byUuid = new Map<string, SentMessage>();
  /** CardKit card entities by card_id, and every CardKit call in order. */
  readonly cards = new Map<string, FakeCard>();
  readonly cardOps: CardOp[] = [];
  /** false: the app lacks cardkit:card:write (every CardKit call is refused). */
  cardkitEnabled = true;
  private app: FastifyInstance;
  private seq = 0;
  readonly botOpenId: string;

  constructor(private readonly opts: FakeLarkOptions = {}) {
    this.botOpenId = opts.botOpenId ?? 'ou_bot0000000000000000000000000001';
    this.app = Fastify({ logger: false, bodyLimit: 20 * 1024 * 1024 });
    this.app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_r, b, done) => done(null, b));
    this.routes();
  }

  static async start(opts: FakeLarkOptions = {}): Promise<FakeLark> {
    const f = new FakeLark(opts);
    f.url = await f.app.listen({ port: 0, host: '127.0.0.1' });
    return f;
  }

  /** Queue faults answered to the next message requests, in order. */
  failNext(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /** Adds users to the tenant directory (phone as 11 digits or +86…, email any case). */
  addUsers(...users: FakeUser[]): void {
    for (const u of users) {
      this.users.set(u.openId, u);
      if (u.mobile) this.byMobile.set(u.mobile.replace(/^\+86/, ''), u);
      if (u.email) this.byEmail.set(u.email.toLowerCase(), u);
    }
  }

  /** Queue faults answered to the next contact API requests (batch_get_id, users/:id), in order. */
  failContactsNext(...faults: Fault[]): void {
    this.contactFaults.push(...faults);
  }

  /** The most batch_get_id calls that arrived within any one second (answered or refused). */
  maxContactCallsPerSecond(): number {
    const at = this.contactCalls.filter((c) => c.api === 'batch_get_id').map((c) => c.at);
    let best = 0;
    for (let i = 0, j = 0; i < at.length; i++) {
      while (at[i]! - at[j]! >= 1000) j++;
      best = Math.max(best, i - j + 1);
    }
    return best;
  }

  /** Messages delivered to a receiver (by receive_id, or the chat of a reply). */
  deliveredTo(id: string): SentMessage[] {
    return this.sent.filter((m) => m.receive_id === id || m.reply_to === id);
  }

  /** The card entity a message carried ({"type":"card","data":{"card_id"}}), if any. */
  cardOf(messageId: string): FakeCard | undefined {
    return [...this.cards.values()].find((c) => c.messageId === messageId);
  }

  /** A card's element (by element_id), searched through the body. */
  static element(card: Record<string, unknown>, elementId: string): Record<string, unknown> | undefined {
    const walk = (els: unknown[]): Record<string, unknown> | undefined => {
      for (const e of els as Record<string, unknown>[]) {
        if (e?.element_id === elementId) return e;
        const inner = [...((e?.elements as unknown[]) ?? []), ...(((e?.columns as { elements?: unknown[] }[]) ?? []).flatMap((c) => c.elements ?? []))];
        const hit = inner.length ? walk(inner) : undefined;
        if (hit) return hit;
      }
      return undefined;
    };
    return walk(((card.body as { elements?: unknown[] })?.elements ?? []) as unknown[]);
  }

  texts(): string[] {
    return this.sent.map((m) => (m.msg_type === 'text' ? String(m.content.text) : JSON.stringify(m.content)));
  }

  async close(): Promise<void> {
    await this.app.close();
  }

  private routes(): void {
    const app = this.app;
    app.post('/open-apis/auth/v3/tenant_access_token/internal', async (req) => {
      this.tokenRequests++;
      const b = req.body as { app_id?: string; app_secret?: string };
      if (!b?.app_id || !b?.app_secret) return { code: 10003, msg: 'invalid param' };
      return { code: 0, msg: 'ok', tenant_access_token: 't-fake-tenant-token', expire: 7200 };
    });
    app.get('/open-apis/bot/v3/info', async (req, reply) => {
      if (!this.authorized(req)) return reply.code(401).send({ code: 99991663, msg: 'invalid token' });
      return { code: 0, msg: 'ok', bot: { open_id: this.botOpenId, app_name: '换届助手', activate_status: 2 } };
    });
    app.post('/open-apis/im/v1/messages', async (req, reply) => {
      const q = req.query as { receive_id_type?: string };
      const b = req.body as { receive_id?: string; msg_type?: string; content?: string; uuid?: string };
      return this.message(req, reply, { receive_id_type: q.receive_id_type, receive_id: b.receive_id, reply_to: undefined, ...b });
    });
    app.post('/open-apis/im/v1/messages/:id/reply', async (req, reply) => {
      const b = req.body as { msg_type?: string; content?: string; uuid?: string };
      const id = (req.params as { id: string }).id;
      return this.message(req, reply, { receive_id_type: undefined, receive_id: undefined, reply_to: id, ...b });
    });
    app.post('/open-apis/contact/v3/users/batch_get_id', async (req, reply) => this.batchGetId(req, reply));
    app.get('/open-apis/contact/v3/users/:id', async (req, reply) => {
      const id = (req.params as { id: string }).id;
      const rec: ContactCall = { api: 'user', at: Date.now(), mobiles: [], emails: [], userId: id, answeredWith: 200 };
      this.contactCalls.push(rec);
      const fault = this.contactFaults.shift();
      if (fault) return this.answerFault(reply, rec, fault);
      if (!this.authorized(req)) return this.refuse(reply, rec, 401, { code: 99991663, msg: 'invalid token' });
      if ((req.query as { user_id_type?: string }).user_id_type !== 'open_id') return this.refuse(reply, rec, 400, { code: 99992402, msg: 'field validation failed' });
      const u = this.users.get(id);
      if (!u || u.hidden) return this.refuse(reply, rec, 400, { code: 41050, msg: 'no user authority error' });
      // Lark leaves out the fields whose scope the app lacks.
      const user = {
        open_id: u.openId,
        ...(this.contactScopes.phone && u.mobile ? { mobile: u.mobile.startsWith('+') ? u.mobile : `+86${u.mobile}` } : {}),
        ...(this.contactScopes.email && u.email ? { email: u.email } : {}),
      };
      return { code: 0, msg: 'success', data: { user } };
    });
    this.cardkitRoutes();
    app.post('/open-apis/im/v1/images', async (req, reply) => {
      if (!this.authorized(req)) return reply.code(401).send({ code: 99991663, msg: 'invalid token' });
      if (this.failUploads) return reply.code(500).send({ code: 1, msg: 'upload failed' });
      this.images.push({ bytes: (req.body as Buffer)?.length ?? 0 });
      return { code: 0, msg: 'success', data: { image_key: `img_v3_fake_${this.images.length}` } };
    });
    app.post('/open-apis/im/v1/files', async (req, reply) => {
      if (!this.authorized(req)) return reply.code(401).send({ code: 99991663, msg: 'invalid token' });
      if (this.failUploads) return reply.code(500).send({ code: 1, msg: 'upload failed' });
      this.files.push({ bytes: (req.body as Buffer)?.length ?? 0 });
      return { code: 0, msg: 'success', data: { file_key: `file_v3_fake_${this.files.length}` } };
    });
  }

  /**
   * CardKit: create a card entity, stream an element's text, change settings, replace
   * the card. Like Lark: JSON 2.0 only, update_multi may not be false, every call after
   * create needs a sequence larger than the last, text streams only in streaming mode.
   */
  private cardkitRoutes(): void {
    const app = this.app;
    const op = (reply: import('fastify').FastifyReply, rec: CardOp, status: number, code: number, msg: string, data: unknown = {}) => {
      rec.answeredWith = status;
      rec.code = code;
      this.cardOps.push(rec);
      return reply.code(status).send({ code, msg, data });
    };
    const gate = (req: FastifyRequest, reply: import('fastify').FastifyReply, rec: CardOp) => {
      if (!this.authorized(req)) return op(reply, rec, 401, 99991663, 'invalid token');
      if (!this.cardkitEnabled) return op(reply, rec, 400, 99991672, 'Access denied. One of the following scopes is required: [cardkit:card:write]');
      return undefined;
    };
    const parseCard = (data: unknown): Record<string, unknown> | undefined => {
      try {
        const c = JSON.parse(String(data)) as Record<string, unknown>;
        const cfg = (c.config ?? {}) as Record<string, unknown>;
        return c.schema === '2.0' && cfg.update_multi !== false ? c : undefined;
      } catch {
        return undefined;
      }
    };
    const existing = (req: FastifyRequest, reply: import('fastify').FastifyReply, rec: CardOp, sequence: unknown) => {
      const card = this.cards.get(rec.cardId!);
      if (!card) return { refused: op(reply, rec, 400, 300301, 'card not found') };
      if (typeof sequence !== 'number' || sequence <= card.sequence) return { refused: op(reply, rec, 400, 300317, 'sequence number compare failed') };
      return { card };
    };
    app.post('/open-apis/cardkit/v1/cards', async (req, reply) => {
      const rec: CardOp = { op: 'create', at: Date.now(), answeredWith: 200, code: 0 };
      const refused = gate(req, reply, rec);
      if (refused) return refused;
      const b = (req.body ?? {}) as { type?: string; data?: string };
      const card = b.type === 'card_json' ? parseCard(b.data) : undefined;
      if (!card) return op(reply, rec, 400, 300302, 'invalid card json (JSON 2.0, update_multi true)');
      const id = `7355372766134${String(this.cards.size + 1).padStart(6, '0')}`;
      rec.cardId = id;
      this.cards.set(id, { id, card, streaming: (card.config as Record<string, unknown>)?.streaming_mode === true, sequence: 0 });
      return op(reply, rec, 200, 0, 'success', { card_id: id });
    });
    app.put('/open-apis/cardkit/v1/cards/:card_id/elements/:element_id/content', async (req, reply) => {
      const p = req.params as { card_id: string; element_id: string };
      const b = (req.body ?? {}) as { content?: string; sequence?: number };
      const rec: CardOp = { op: 'content', cardId: p.card_id, elementId: p.element_id, at: Date.now(), sequence: b.sequence, content: b.content, answeredWith: 200, code: 0 };
      const refused = gate(req, reply, rec);
      if (refused) return refused;
      const { card, refused: r2 } = existing(req, reply, rec, b.sequence);
      if (!card) return r2;
      if (!card.streaming) return op(reply, rec, 400, 300309, 'streaming mode is closed');
      const el = FakeLark.element(card.card, p.element_id);
      if (!el || (el.tag !== 'markdown' && el.tag !== 'plain_text')) return op(reply, rec, 400, 300311, 'element not found or not text');
      el.content = String(b.content ?? '');
      card.sequence = b.sequence!;
      return op(reply, rec, 200, 0, 'success');
    });
    app.patch('/open-apis/cardkit/v1/cards/:card_id/settings', async (req, reply) => {
      const p = req.params as { card_id: string };
      const b = (req.body ?? {}) as { settings?: string; sequence?: number };
      const rec: CardOp = { op: 'settings', cardId: p.card_id, at: Date.now(), sequence: b.sequence, content: b.settings, answeredWith: 200, code: 0 };
      const refused = gate(req, reply, rec);
      if (refused) return refused;
      const { card, refused: r2 } = existing(req, reply, rec, b.sequence);
      if (!card) return r2;
      let settings: { config?: Record<string, unknown> };
      try {
        settings = JSON.parse(String(b.settings)) as typeof settings;
      } catch {
        return op(reply, rec, 400, 300302, 'settings is not JSON');
      }
      if (settings.config?.update_multi === false) return op(reply, rec, 400, 300302, 'update_multi may not be false');
      card.card.config = { ...((card.card.config as object) ?? {}), ...settings.config };
      if (typeof settings.config?.streaming_mode === 'boolean') card.streaming = settings.config.streaming_mode;
      card.sequence = b.sequence!;
      return op(reply, rec, 200, 0, 'success');
    });
    app.put('/open-apis/cardkit/v1/cards/:card_id', async (req, reply) => {
      const p = req.params as { card_id: string };
      const b = (req.body ?? {}) as { card?: { type?: string; data?: string }; sequence?: number };
      const rec: CardOp = { op: 'update', cardId: p.card_id, at: Date.now(), sequence: b.sequence, content: b.card?.data, answeredWith: 200, code: 0 };
      const refused = gate(req, reply, rec);
      if (refused) return refused;
      const { card, refused: r2 } = existing(req, reply, rec, b.sequence);
      if (!card) return r2;
      const next = b.card?.type === 'card_json' ? parseCard(b.card.data) : undefined;
      if (!next) return op(reply, rec, 400, 300302, 'invalid card json (JSON 2.0, update_multi true)');
      card.card = next;
      card.streaming = (next.config as Record<string, unknown>)?.streaming_mode === true;
      card.sequence = b.sequence!;
      return op(reply, rec, 200, 0, 'success');
    });
  }

  /**
   * batch_get_id: one entry per mobile and email asked; user_id only for users the
   * app may see. Lark's frequency control: beyond the per-second limit, 429 with
   * {code: 99991400} and x-ogw-ratelimit-reset.
   */
  private async batchGetId(req: FastifyRequest, reply: import('fastify').FastifyReply) {
    const b = (req.body ?? {}) as { mobiles?: string[]; emails?: string[]; include_resigned?: boolean };
    const now = Date.now();
    const rec: ContactCall = { api: 'batch_get_id', at: now, mobiles: b.mobiles ?? [], emails: b.emails ?? [], answeredWith: 200 };
    const limit = this.opts.contactRatePerSecond ?? 50;
    const recent = this.contactCalls.filter((c) => c.api === 'batch_get_id' && c.answeredWith === 200 && now - c.at < 1000).length;
    this.contactCalls.push(rec);
    const fault = this.contactFaults.shift();
    if (fault) return this.answerFault(reply, rec, fault);
    if (recent >= limit) {
      reply.header('x-ogw-ratelimit-limit', String(limit)).header('x-ogw-ratelimit-reset', '1');
      return this.refuse(reply, rec, 429, { code: 99991400, msg: 'request trigger frequency limit' });
    }
    if (!this.authorized(req)) return this.refuse(reply, rec, 401, { code: 99991663, msg: 'invalid token' });
    if (!this.contactScopes.userId) {
      return this.refuse(reply, rec, 400, { code: 99991672, msg: 'Access denied. One of the following scopes is required: [contact:user.id:readonly]' });
    }
    if ((req.query as { user_id_type?: string }).user_id_type !== 'open_id') return this.refuse(reply, rec, 400, { code: 99992402, msg: 'field validation failed' });
    if (rec.mobiles.length > 50 || rec.emails.length > 50 || (!rec.mobiles.length && !rec.emails.length)) {
      return this.refuse(reply, rec, 400, { code: 99992402, msg: 'field validation failed' });
    }
    const visible = (u: FakeUser | undefined) => (u && !u.hidden ? { user_id: u.openId, status: { is_frozen: false, is_resigned: false, is_activated: true } } : {});
    const user_list = [
      ...rec.mobiles.map((m) => ({ mobile: m, ...visible(this.byMobile.get(m.replace(/^\+86/, ''))) })),
      ...rec.emails.map((e) => ({ email: e, ...visible(this.byEmail.get(e.toLowerCase())) })),
    ];
    return { code: 0, msg: 'success', data: { user_list } };
  }

  private async answerFault(reply: import('fastify').FastifyReply, rec: { answeredWith: number }, fault: Fault) {
    if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    for (const [k, v] of Object.entries(fault.headers ?? {})) reply.header(k, v);
    return this.refuse(reply, rec, fault.status, fault.body ?? {});
  }

  private refuse(reply: import('fastify').FastifyReply, rec: { answeredWith: number }, status: number, body: unknown) {
    rec.answeredWith = status;
    return reply.code(status).send(body);
  }

  private authorized(req: FastifyRequest): boolean {
    return req.headers.authorization === 'Bearer t-fake-tenant-token';
  }

  private async message(
    req: FastifyRequest,
    reply: import('fastify').FastifyReply,
    m: { receive_id_type?: string; receive_id?: string; reply_to?: string; msg_type?: string; content?: string; uuid?: string },
  ) {
    const n = this.requests.length;
    const fault = this.faults.shift() ?? this.opts.chaos?.({ uuid: m.uuid, n });
    const rec: MessageRequest = { path: req.url, uuid: m.uuid, authorized: this.authorized(req), answeredWith: 200 };
    this.requests.push(rec);
    if (fault) {
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      rec.answeredWith = fault.status;
      for (const [k, v] of Object.entries(fault.headers ?? {})) reply.header(k, v);
      return reply.code(fault.status).send(fault.body ?? {});
    }
    if (!rec.authorized) {
      rec.answeredWith = 401;
      return reply.code(401).send({ code: 99991663, msg: 'Invalid access token for authorization' });
    }
    if (!m.msg_type || typeof m.content !== 'string' || (!m.receive_id && !m.reply_to)) {
      rec.answeredWith = 400;
      return reply.code(400).send({ code: 230001, msg: 'invalid message content' });
    }
    let content: Record<string, unknown>;
    try {
      content = JSON.parse(m.content) as Record<string, unknown>;
    } catch {
      rec.answeredWith = 400;
      return reply.code(400).send({ code: 230001, msg: 'content is not JSON' });
    }
    // Lark: requests with the same uuid succeed at most once within an hour.
    const seen = m.uuid ? this.byUuid.get(m.uuid) : undefined;
    if (seen) return { code: 0, msg: 'success', data: { message_id: seen.message_id } };
    // A card entity ({"type":"card","data":{"card_id"}}) must exist and is sent once.
    const entityId = m.msg_type === 'interactive' && content.type === 'card' ? (content.data as { card_id?: string } | undefined)?.card_id : undefined;
    const entity = entityId ? this.cards.get(entityId) : undefined;
    if (entityId !== undefined && (!entity || entity.messageId)) {
      rec.answeredWith = 400;
      return reply.code(400).send({ code: 230099, msg: entity ? 'card entity already sent' : 'card entity not found' });
    }
    const msg: SentMessage = {
      uuid: m.uuid,
      receive_id_type: m.receive_id_type,
      receive_id: m.receive_id,
      reply_to: m.reply_to,
      msg_type: m.msg_type,
      content,
      message_id: `om_fake_${++this.seq}`,
      at: Date.now(),
    };
    this.sent.push(msg);
    if (entity) entity.messageId = msg.message_id;
    if (m.uuid) this.byUuid.set(m.uuid, msg);
    return { code: 0, msg: 'success', data: { message_id: msg.message_id, msg_type: m.msg_type } };
  }
}
