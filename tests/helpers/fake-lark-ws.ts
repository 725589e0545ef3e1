import { randomBytes } from 'node:crypto';
import { scaled } from './time-scale.js';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import protobuf from 'protobufjs';

/**
 * A fake of Lark's long-connection (长连接) service on 127.0.0.1, for the real
 * SDK WSClient (LARK_EVENT_MODE=ws).
 *
 * The SDK uses one `domain` for REST calls and for the endpoint discovery
 * (`POST ${domain}/callback/ws/endpoint`), so this fake is the front door: it
 * answers the endpoint request, accepts the WebSocket upgrade on the URL it
 * handed out (ticket checked, one use), and forwards every other HTTP request
 * unchanged to the REST fake (`FakeLark`), whose `sent`/`requests` stay the
 * record of what the bot sent. Point LARK_DOMAIN at `url`.
 *
 * On the socket it speaks pbbp2 (the SDK's protobuf Frame): answers pings with
 * pongs carrying the ClientConfig, pushes events as data frames (optionally in
 * fragments, as Lark does for large payloads) and collects the SDK's ACK frames.
 */

// ---------------------------------------------------------------- pbbp2 frames

/** method of a Frame. */
export const FRAME_CONTROL = 0;
export const FRAME_DATA = 1;

export interface PbHeader {
  key: string;
  value: string;
}

export interface PbFrame {
  SeqID: number;
  LogID: number;
  service: number;
  method: number;
  headers: PbHeader[];
  payloadEncoding?: string;
  payloadType?: string;
  payload?: Uint8Array;
  LogIDNew?: string;
}

// Same schema as the SDK's bundled pbbp2 code (proto2; field numbers and names as there).
const pbRoot = protobuf.Root.fromJSON({
  nested: {
    pbbp2: {
      nested: {
        Header: {
          fields: {
            key: { rule: 'required', type: 'string', id: 1 },
            value: { rule: 'required', type: 'string', id: 2 },
          },
        },
        Frame: {
          fields: {
            SeqID: { rule: 'required', type: 'uint64', id: 1 },
            LogID: { rule: 'required', type: 'uint64', id: 2 },
            service: { rule: 'required', type: 'int32', id: 3 },
            method: { rule: 'required', type: 'int32', id: 4 },
            headers: { rule: 'repeated', type: 'Header', id: 5 },
            payloadEncoding: { type: 'string', id: 6 },
            payloadType: { type: 'string', id: 7 },
            payload: { type: 'bytes', id: 8 },
            LogIDNew: { type: 'string', id: 9 },
          },
        },
      },
    },
  },
});
const FrameType = pbRoot.lookupType('pbbp2.Frame');

export function encodeFrame(frame: PbFrame): Uint8Array {
  return FrameType.encode(FrameType.fromObject(frame)).finish();
}

export function decodeFrame(bytes: Uint8Array): PbFrame {
  const o = FrameType.toObject(FrameType.decode(bytes), { longs: Number }) as Partial<PbFrame>;
  return {
    SeqID: o.SeqID ?? 0,
    LogID: o.LogID ?? 0,
    service: o.service ?? 0,
    method: o.method ?? 0,
    headers: o.headers ?? [],
    ...(o.payloadEncoding !== undefined ? { payloadEncoding: o.payloadEncoding } : {}),
    ...(o.payloadType !== undefined ? { payloadType: o.payloadType } : {}),
    ...(o.payload !== undefined ? { payload: o.payload } : {}),
    ...(o.LogIDNew !== undefined ? { LogIDNew: o.LogIDNew } : {}),
  };
}

export function frameHeaders(frame: PbFrame): Record<string, string> {
  return Object.fromEntries(frame.headers.map((h) => [h.key, h.value]));
}

// ---------------------------------------------------------------- ws (untyped)

// `ws` is in node_modules (a dependency of the SDK) but without type
// declarations; load it through require with the little surface used here.
interface WsSocket {
  readonly readyState: number;
  send(data: Uint8Array, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}
interface WsServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: WsSocket) => void): void;
  close(cb?: (err?: Error) => void): void;
}
const { WebSocketServer } = createRequire(import.meta.url)('ws') as {
  WebSocketServer: new (opts: { noServer: true; perMessageDeflate?: boolean }) => WsServer;
};
const WS_OPEN = 1;

// ---------------------------------------------------------------- the fake

/** What /callback/ws/endpoint hands the client (seconds, as Lark sends it). */
export interface WsClientConfig {
  PingInterval: number;
  ReconnectCount: number;
  ReconnectInterval: number;
  ReconnectNonce: number;
}

export interface FakeLarkWsOptions {
  /** The REST fake every other HTTP request is forwarded to (a `FakeLark`, or anything with a base url). */
  rest: { url: string };
  /** When set, the endpoint refuses other credentials (as Lark does). */
  appId?: string;
  appSecret?: string;
  /** Defaults are small, for fast tests: ping every 1 s, reconnect after 0.1 s, no jitter. */
  clientConfig?: Partial<WsClientConfig>;
  /** How long push() waits for the ACK (ms). */
  ackTimeoutMs?: number;
}

export interface EndpointRequest {
  AppID?: string;
  AppSecret?: string;
  /** The `code` answered. */
  code: number;
}

/** The SDK's answer to a pushed event: a data frame echoing the headers, payload {code, data?: base64(JSON)}. */
export interface EventAck {
  /** The frame-level message_id header (not the IM message id). */
  messageId: string;
  code: number;
  /** `data` decoded (base64 → JSON), when the handler returned something. */
  data?: unknown;
  headers: Record<string, string>;
  frame: PbFrame;
}

export interface PushOptions {
  /** Split the JSON bytes into this many fragments of about equal size (sum = n). */
  fragments?: number;
  /** Or split at these byte offsets (may fall inside a multi-byte character). */
  splitAt?: number[];
  /** Send the fragments last-first. */
  reverse?: boolean;
  /** Frame message_id header; fresh by default. */
  messageId?: string;
  traceId?: string;
  /** Frame `type` header (Lark uses `event` for events and card callbacks). */
  type?: string;
}

export class FakeWsConnection {
  /** Every frame the client sent, in order. */
  readonly frames: PbFrame[] = [];
  pings = 0;
  closed = false;
  closeCode: number | undefined;
  readonly whenClosed: Promise<number>;
  private resolveClosed!: (code: number) => void;

  constructor(
    readonly url: URL,
    readonly deviceId: string,
    private readonly socket: WsSocket,
  ) {
    this.whenClosed = new Promise((r) => (this.resolveClosed = r));
    socket.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
      this.resolveClosed(code);
    });
    // A terminated peer surfaces as 'error' on some paths; 'close' follows and is what counts.
    socket.on('error', () => {});
  }

  get open(): boolean {
    return !this.closed && this.socket.readyState === WS_OPEN;
  }

  /**
   * Open, and the client has sent its first ping. The SDK attaches its frame
   * listener only after its connect promise resolves, a tick after 'open', so
   * a frame sent together with the upgrade response is dropped unread; the
   * first ping goes out at 'open', so anything sent after it arrives is read.
   */
  get ready(): boolean {
    return this.open && this.pings > 0;
  }

  send(frame: PbFrame): void {
    this.socket.send(encodeFrame(frame));
  }

  /** Lark drops the connection (no close handshake), e.g. a gateway restart. */
  drop(): void {
    this.socket.terminate();
  }

  /** Lark closes the connection with a close frame. */
  close(code = 1000): void {
    this.socket.close(code);
  }
}

const DEFAULT_CLIENT_CONFIG: WsClientConfig = { PingInterval: 1, ReconnectCount: -1, ReconnectInterval: 0.1, ReconnectNonce: 0 };

export class FakeLarkWs {
  url = '';
  readonly serviceId = 33554678;
  readonly endpointRequests: EndpointRequest[] = [];
  readonly connections: FakeWsConnection[] = [];
  readonly acks: EventAck[] = [];
  /** Upgrade attempts refused (unknown or reused ticket, wrong path). */
  refusedUpgrades = 0;
  /** HTTP requests forwarded to the REST fake (method and path). */
  readonly forwarded: string[] = [];
  readonly clientConfig: WsClientConfig;
  private readonly server: Server;
  private readonly wss: WsServer;
  private readonly tickets = new Set<string>();
  private readonly ackWaiters = new Map<string, (ack: EventAck) => void>();
  private readonly connectionWaiters: (() => void)[] = [];
  private seq = 0;

  private constructor(private readonly opts: FakeLarkWsOptions) {
    this.clientConfig = { ...DEFAULT_CLIENT_CONFIG, ...opts.clientConfig };
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    this.server = createServer((req, res) => {
      if (req.method === 'POST' && req.url?.split('?')[0] === '/callback/ws/endpoint') void this.endpoint(req, res);
      else this.forward(req, res);
    });
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  static async start(opts: FakeLarkWsOptions): Promise<FakeLarkWs> {
    const f = new FakeLarkWs(opts);
    await new Promise<void>((resolve, reject) => {
      f.server.once('error', reject);
      f.server.listen(0, '127.0.0.1', () => resolve());
    });
    f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
    return f;
  }

  /** The newest ready connection (open, first ping received), if any. */
  get connection(): FakeWsConnection | undefined {
    return [...this.connections].reverse().find((c) => c.ready);
  }

  /** Resolves with the newest ready connection, waiting for one (beyond the first `after` connections if given). */
  async waitForConnection(opts: { after?: number; timeoutMs?: number } = {}): Promise<FakeWsConnection> {
    const after = opts.after ?? 0;
    const ready = () => (this.connections.length > after ? this.connection : undefined);
    const deadline = Date.now() + scaled(opts.timeoutMs ?? 5000);
    for (;;) {
      const c = ready();
      if (c) return c;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `fake-lark-ws: no ready connection (connections: ${this.connections.length}, endpoint requests: ${this.endpointRequests.length}, refused upgrades: ${this.refusedUpgrades})`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.connectionWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /**
   * Pushes an event (the schema 2.0 envelope, as plaintext JSON) over the open
   * connection and resolves with the client's ACK for it.
   */
  async push(envelope: unknown, opts: PushOptions = {}): Promise<EventAck> {
    const conn = this.connection;
    if (!conn) throw new Error('fake-lark-ws: no ready connection to push on (call waitForConnection first)');
    const bytes = Buffer.from(JSON.stringify(envelope), 'utf8');
    const parts = split(bytes, opts);
    const messageId = opts.messageId ?? `ws_msg_${process.pid}_${++this.seq}_${randomBytes(3).toString('hex')}`;
    const traceId = opts.traceId ?? randomBytes(8).toString('hex');
    const acked = this.waitForAck(messageId, this.opts.ackTimeoutMs ?? 5000);
    const frames = parts.map((payload, i) => {
      const logId = ++this.seq;
      return {
        SeqID: logId,
        LogID: logId,
        service: this.serviceId,
        method: FRAME_DATA,
        headers: [
          { key: 'type', value: opts.type ?? 'event' },
          { key: 'message_id', value: messageId },
          { key: 'sum', value: String(parts.length) },
          { key: 'seq', value: String(i) },
          { key: 'trace_id', value: traceId },
        ],
        payloadEncoding: '',
        payloadType: '',
        payload,
        LogIDNew: `${logId}_${traceId}`,
      } satisfies PbFrame;
    });
    if (opts.reverse) frames.reverse();
    for (const f of frames) conn.send(f);
    return acked;
  }

  async close(): Promise<void> {
    for (const c of this.connections) if (!c.closed) c.drop();
    await new Promise<void>((r) => this.wss.close(() => r()));
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private waitForAck(messageId: string, timeoutMs: number): Promise<EventAck> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.ackWaiters.delete(messageId);
        reject(new Error(`fake-lark-ws: no ACK for frame message_id ${messageId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.ackWaiters.set(messageId, (ack) => {
        clearTimeout(t);
        this.ackWaiters.delete(messageId);
        resolve(ack);
      });
    });
  }

  private async endpoint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: { AppID?: string; AppSecret?: string } = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      // answered below as bad credentials
    }
    const answer = (code: number, payload: Record<string, unknown>) => {
      this.endpointRequests.push({ AppID: body.AppID, AppSecret: body.AppSecret, code });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code, ...payload }));
    };
    const { appId, appSecret } = this.opts;
    if (!body.AppID || !body.AppSecret || (appId && body.AppID !== appId) || (appSecret && body.AppSecret !== appSecret)) {
      // Lark answers auth failures with code 403/514 and no data.
      return answer(403, { msg: 'forbidden', data: {} });
    }
    const ticket = randomBytes(12).toString('hex');
    this.tickets.add(ticket);
    const deviceId = String(7_000_000_000 + this.tickets.size);
    const host = this.url.replace(/^http/, 'ws');
    // Same shape as Lark's URL; fpid comes first because the SDK parses the whole URL with qs.
    const url =
      `${host}/ws/v2?fpid=493&aid=552564&device_id=${deviceId}&access_key=${randomBytes(8).toString('hex')}` +
      `&service_id=${this.serviceId}&ticket=${ticket}`;
    return answer(0, { msg: 'ok', data: { URL: url, ClientConfig: this.clientConfig } });
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', this.url);
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== '/ws/v2' || !this.tickets.delete(ticket)) {
      this.refusedUpgrades++;
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new FakeWsConnection(url, url.searchParams.get('device_id') ?? '', ws);
      ws.on('message', (data) => this.onFrame(conn, data));
      this.connections.push(conn);
    });
  }

  private onFrame(conn: FakeWsConnection, data: Buffer): void {
    let frame: PbFrame;
    try {
      frame = decodeFrame(data);
    } catch {
      conn.frames.push({ SeqID: 0, LogID: 0, service: 0, method: -1, headers: [{ key: 'undecodable', value: data.toString('hex') }] });
      return;
    }
    conn.frames.push(frame);
    const h = frameHeaders(frame);
    if (frame.method === FRAME_CONTROL && h.type === 'ping') {
      conn.pings++;
      conn.send({
        SeqID: 0,
        LogID: 0,
        service: frame.service,
        method: FRAME_CONTROL,
        headers: [{ key: 'type', value: 'pong' }],
        payload: Buffer.from(JSON.stringify(this.clientConfig)),
      });
      if (conn.pings === 1) for (const w of this.connectionWaiters.splice(0)) w();
      return;
    }
    if (frame.method === FRAME_DATA && h.message_id) {
      let code = -1;
      let decoded: unknown;
      try {
        const body = JSON.parse(Buffer.from(frame.payload ?? []).toString('utf8')) as { code?: number; data?: string };
        code = typeof body.code === 'number' ? body.code : -1;
        if (typeof body.data === 'string') decoded = JSON.parse(Buffer.from(body.data, 'base64').toString('utf8'));
      } catch {
        // leave code -1: an ACK we could not read
      }
      const ack: EventAck = { messageId: h.message_id, code, headers: h, frame, ...(decoded !== undefined ? { data: decoded } : {}) };
      this.acks.push(ack);
      this.ackWaiters.get(h.message_id)?.(ack);
    }
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const target = new URL(req.url ?? '/', this.opts.rest.url);
    this.forwarded.push(`${req.method} ${req.url}`);
    const up = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: -1, msg: `fake-lark-ws: forwarding failed: ${e.message}` }));
    });
    req.pipe(up);
  }
}

function split(bytes: Buffer, opts: PushOptions): Uint8Array[] {
  let cuts: number[];
  if (opts.splitAt) cuts = [...opts.splitAt].sort((a, b) => a - b);
  else {
    const n = Math.max(1, Math.min(opts.fragments ?? 1, bytes.length));
    cuts = Array.from({ length: n - 1 }, (_, i) => Math.round(((i + 1) * bytes.length) / n));
  }
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const c of [...cuts, bytes.length]) {
    if (c <= from || c > bytes.length) throw new Error(`fake-lark-ws: bad split offset ${c}`);
    parts.push(bytes.subarray(from, c));
    from = c;
  }
  return parts;
}
