import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { scaled } from './helpers/time-scale.js';
import { startTestRuntime, type TestEnv } from './helpers/test-runtime.js';

/**
 * Issue 17, slow clients: the real app on a real port, with short limits. A client that never
 * finishes its request is cut off by the server; one address holds at most
 * HTTP_MAX_CONNECTIONS_PER_IP connections, the exempt ones (the reverse proxy) any number.
 */
describe('HTTP limits for slow clients', () => {
  let t: TestEnv | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await t?.close({ remove: true });
    t = undefined;
  });

  async function listen(env: Record<string, string>): Promise<number> {
    t = await startTestRuntime({ env });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const a = t.app.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  function open(port: number, from: string): { socket: Socket; closed: Promise<void>; connected: Promise<void> } {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from });
    sockets.push(socket);
    socket.on('error', () => {});
    return {
      socket,
      closed: new Promise((r) => socket.on('close', () => r())),
      connected: new Promise((r) => socket.on('connect', () => r())),
    };
  }

  const within = <T>(p: Promise<T>, ms: number, what: string) =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms))]);

  it('closes a connection that drips its request body or headers past the request timeout', async () => {
    const port = await listen({ HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '1500' });
    const body = open(port, '127.0.0.1');
    const headers = open(port, '127.0.0.1');
    await Promise.all([body.connected, headers.connected]);
    body.socket.write('POST /lark/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
    headers.socket.write('POST /lark/events HTTP/1.1\r\nHost: x\r\n');
    let answer = '';
    body.socket.on('data', (d) => (answer += d));
    const drip = setInterval(() => {
      if (!body.socket.destroyed) body.socket.write(' ');
      if (!headers.socket.destroyed) headers.socket.write('X');
    }, 200);
    try {
      await within(Promise.all([body.closed, headers.closed]), scaled(10_000), 'both drips closed by the server');
    } finally {
      clearInterval(drip);
    }
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('caps the connections of one address, but not of an exempt one (the reverse proxy)', async () => {
    const port = await listen({ HTTP_MAX_CONNECTIONS_PER_IP: '2', HTTP_CONNECTION_LIMIT_EXEMPT: '127.0.0.1' });
    const a = [open(port, '127.0.0.2'), open(port, '127.0.0.2')];
    await Promise.all(a.map((c) => c.connected));
    const third = open(port, '127.0.0.2');
    await within(third.closed, scaled(5000), 'the third connection from 127.0.0.2 closed');
    // The two first are still served.
    const res = await new Promise<string>((resolve) => {
      let got = '';
      a[0]!.socket.on('data', (d) => {
        got += d;
        if (got.includes('\r\n\r\n')) resolve(got);
      });
      a[0]!.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(res).toMatch(/^HTTP\/1\.1 200/);
    // Closing one frees its place.
    a[1]!.socket.destroy();
    await a[1]!.closed;
    const serverSide = () => new Promise<number>((r) => t!.app.server.getConnections((_e, n) => r(n)));
    const deadline = Date.now() + scaled(5000);
    while ((await serverSide()) > 1) {
      if (Date.now() > deadline) throw new Error('the server kept the closed connection');
      await new Promise((r) => setTimeout(r, 10));
    }
    const again = open(port, '127.0.0.2');
    await again.connected;
    // The exempt address: ten at once, all answered.
    const proxy = Array.from({ length: 10 }, () => open(port, '127.0.0.1'));
    await Promise.all(proxy.map((c) => c.connected));
    const answers = await Promise.all(
      [again, ...proxy].map(
        (c) =>
          new Promise<string>((resolve) => {
            let got = '';
            c.socket.on('data', (d) => {
              got += d;
              if (got.includes('\r\n\r\n')) resolve(got.slice(0, 12));
            });
            c.socket.on('close', () => resolve(got.slice(0, 12) || 'closed'));
            c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
          }),
      ),
    );
    expect(answers).toEqual(Array(11).fill('HTTP/1.1 200'));
  });

  it('has safe defaults, and refuses a header timeout longer than the request timeout', () => {
    const c = loadConfig({ DATA_DIR: '/tmp/hj-unused' });
    expect(c.http).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5000,
      maxConnectionsPerAddress: 32,
      exemptAddresses: ['127.0.0.1', '::1'],
      maxConnections: 1000,
    });
    expect(() => loadConfig({ DATA_DIR: '/tmp/hj-unused', HTTP_HEADERS_TIMEOUT_MS: '20000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS: 不能大于 HTTP_REQUEST_TIMEOUT_MS/);
    expect(() => loadConfig({ DATA_DIR: '/tmp/hj-unused', HTTP_REQUEST_TIMEOUT_MS: '5' })).toThrow(/HTTP_REQUEST_TIMEOUT_MS: 至少 1000/);
  });
});
