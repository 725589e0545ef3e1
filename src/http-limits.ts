import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What one HTTP client may hold of the service (issue 17, slow clients). Node's own timeouts do the
 * time limits (headersTimeout, requestTimeout, keepAliveTimeout, checked every
 * connectionsCheckingInterval); this module adds what Node lacks: a cap on the connections one
 * remote address holds at once.
 */
export interface HttpLimits {
  /** Complete request headers within this long of the connection opening (or the previous request). */
  headersTimeoutMs: number;
  /** The whole request (headers and body) within this long. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** Connections one remote address may hold open at once (0: no cap). */
  maxConnectionsPerAddress: number;
  /** Addresses the per-address cap does not apply to: the reverse proxy, through which every client arrives. */
  exemptAddresses: string[];
  /** Connections the whole server holds at once (0: no cap). */
  maxConnections: number;
}

/** How often Node looks for requests past headersTimeout / requestTimeout (its default is 30 s, which would triple a 10 s limit). */
export const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** The options to give fastify for these limits (node's http.createServer options under `http`). */
export function fastifyHttpOptions(l: HttpLimits) {
  return {
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    // A connection silent this long (no byte either way) is dead: sockets that never send a request included.
    connectionTimeout: Math.max(l.headersTimeoutMs, l.requestTimeoutMs),
    http: { headersTimeout: l.headersTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
  };
}

const normalise = (a: string | undefined): string => (a ?? '').toLowerCase().replace(/^::ffff:/, '');

/**
 * Closes a new connection at once when its remote address already holds `max` (exempt addresses
 * are never counted), and caps the server's total. A counter on the 'connection' event, because
 * nothing else sees a connection before it has sent its headers: request-level limiters (such as
 * @fastify/rate-limit) run after the headers arrive, which is exactly what a slow client never
 * finishes. Returns the number of connections refused so far.
 */
export function limitConnections(server: Server, l: Pick<HttpLimits, 'maxConnectionsPerAddress' | 'exemptAddresses' | 'maxConnections'>, onRefused?: (address: string, open: number) => void): () => number {
  if (l.maxConnections > 0) server.maxConnections = l.maxConnections;
  let refused = 0;
  if (l.maxConnectionsPerAddress <= 0) return () => refused;
  const exempt = new Set(l.exemptAddresses.map(normalise));
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = normalise(socket.remoteAddress);
    if (exempt.has(address)) return;
    const n = open.get(address) ?? 0;
    if (n >= l.maxConnectionsPerAddress) {
      refused++;
      onRefused?.(address, n);
      socket.destroy();
      return;
    }
    open.set(address, n + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
  return () => refused;
}
