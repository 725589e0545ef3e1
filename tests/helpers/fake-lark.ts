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

export interface FakeLarkOptions {
  botOpenId?: string;
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
  private readonly faults: Fault[] = [];
  private readonly byUuid = new Map<string, SentMessage>();
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

  /** Messages delivered to a receiver (by receive_id, or the chat of a reply). */
  deliveredTo(id: string): SentMessage[] {
    return this.sent.filter((m) => m.receive_id === id || m.reply_to === id);
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
    if (m.uuid) this.byUuid.set(m.uuid, msg);
    return { code: 0, msg: 'success', data: { message_id: msg.message_id, msg_type: m.msg_type } };
  }
}
