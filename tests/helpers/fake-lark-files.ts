import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A front door to the fake Lark Open Platform that also serves message
 * resources (files people send to the bot):
 *   GET /open-apis/im/v1/messages/:message_id/resources/:file_key?type=file
 * answers the bytes registered with `addFile`, after checking the tenant token
 * and that the file belongs to that message (Lark: 234003 otherwise). Every
 * other request is forwarded unchanged to the REST fake (`FakeLark`), whose
 * `sent` stays the record of what the bot said. Point LARK_DOMAIN at `url`.
 */
export class FakeLarkFiles {
  url = '';
  readonly downloads: { messageId: string; fileKey: string; type: string | null; authorized: boolean; status: number }[] = [];
  private readonly files = new Map<string, Buffer>();
  private readonly server: Server;

  private constructor(private readonly rest: { url: string }) {
    this.server = createServer((req, res) => {
      const m = /^\/open-apis\/im\/v1\/messages\/([^/]+)\/resources\/([^/?]+)/.exec(req.url ?? '');
      if (req.method === 'GET' && m) this.resource(req, res, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
      else this.forward(req, res);
    });
  }

  static async start(rest: { url: string }): Promise<FakeLarkFiles> {
    const f = new FakeLarkFiles(rest);
    await new Promise<void>((resolve) => f.server.listen(0, '127.0.0.1', resolve));
    f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
    return f;
  }

  addFile(messageId: string, fileKey: string, bytes: Buffer): void {
    this.files.set(`${messageId}/${fileKey}`, bytes);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private resource(req: IncomingMessage, res: ServerResponse, messageId: string, fileKey: string): void {
    const type = new URL(req.url ?? '/', 'http://x').searchParams.get('type');
    const authorized = req.headers.authorization === 'Bearer t-fake-tenant-token';
    const bytes = this.files.get(`${messageId}/${fileKey}`);
    const status = !authorized ? 401 : !bytes || type !== 'file' ? 400 : 200;
    this.downloads.push({ messageId, fileKey, type, authorized, status });
    if (status !== 200) {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status === 401 ? { code: 99991663, msg: 'invalid token' } : { code: 234003, msg: 'File not in msg.' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes!.length) });
    res.end(bytes);
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const target = new URL(req.url ?? '/', this.rest.url);
    const up = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: -1, msg: `fake-lark-files: forwarding failed: ${e.message}` }));
    });
    req.pipe(up);
  }
}
