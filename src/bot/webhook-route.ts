import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { StorageFullError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { parseEnvelope } from './envelope.js';
import type { EventIntake } from './intake.js';
import { computeSignature, decryptPayload, DecryptError, signatureMatches } from './lark-crypto.js';

export const WEBHOOK_BODY_LIMIT = 1024 * 1024;
/** Lark's timestamps more than this far from our clock are refused (replay protection). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** How much of a too-large body is read before the refusal, and for how long at most. */
const OVERSIZE_DRAIN_LIMIT = 4 * WEBHOOK_BODY_LIMIT;
const OVERSIZE_DRAIN_MS = 5_000;

/** Reads and discards a request body, giving up after `ms` (a slow client is not waited for). */
function drain(stream: NodeJS.ReadableStream, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    stream.on('data', () => undefined);
    stream.once('end', done);
    stream.once('error', done);
    stream.once('close', done);
  });
}

export interface WebhookDeps {
  lark: Config['lark'];
  intake: EventIntake;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
}

type Refusal = { status: 400 | 401 | 403 | 503; reason: string; message: string };

/**
 * POST /lark/events: event subscription and card callbacks on one URL.
 * Order matters: the signature over the raw bytes when there is one, then
 * decryption; the challenge is answered then (it comes unsigned); any other
 * event must be signed (with an encrypt key) and carry our token; then dedupe
 * and an immediate answer.
 */
export async function registerWebhookRoute(app: FastifyInstance, deps: WebhookDeps): Promise<void> {
  await app.register(async (scope) => {
    // Keep the raw body: the signature is over the exact bytes Lark sent.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) =>
      done(null, body),
    );
    // A body declared too large is refused with 413, but only after it has been read (up to a
    // bound): answering while the client is still writing and then closing the connection (as
    // Node does for an unread body) makes the client see a reset instead of the refusal.
    scope.addHook('onRequest', async (req, reply) => {
      const declared = Number(req.headers['content-length']);
      if (!(declared > WEBHOOK_BODY_LIMIT)) return;
      if (declared <= OVERSIZE_DRAIN_LIMIT) await drain(req.raw, OVERSIZE_DRAIN_MS);
      metrics?.eventsRefused.inc({ reason: 'too_large' });
      return reply.code(413).send({ error: 'too_large', message: `请求体超过 ${WEBHOOK_BODY_LIMIT / 1048576} MB` });
    });
    scope.post('/lark/events', { bodyLimit: WEBHOOK_BODY_LIMIT }, async (req, reply) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      const h = req.headers;
      const result = await handle(raw, {
        timestamp: header(h['x-lark-request-timestamp']),
        nonce: header(h['x-lark-request-nonce']),
        signature: header(h['x-lark-signature']),
      });
      if ('refused' in result) return refuse(reply, result.refused);
      return reply.code(200).send(result.body);
    });
  });

  const { lark, intake, clock, logger, metrics } = deps;

  function refuse(reply: FastifyReply, r: Refusal) {
    metrics?.eventsRefused.inc({ reason: r.reason });
    logger.warn({ reason: r.reason }, `webhook refused: ${r.message}`);
    return reply.code(r.status).send({ error: r.reason, message: r.message });
  }

  async function handle(
    raw: string,
    sig: { timestamp?: string; nonce?: string; signature?: string },
  ): Promise<{ body: unknown } | { refused: Refusal }> {
    if (!lark.encryptKey && !lark.verificationToken) {
      return refused(403, 'not_configured', '未配置 LARK_VERIFICATION_TOKEN 或 LARK_ENCRYPT_KEY，拒绝接收事件');
    }
    let outer: unknown;
    try {
      outer = JSON.parse(raw);
    } catch {
      return refused(400, 'not_json', 'body is not JSON');
    }
    if (!isObject(outer)) return refused(400, 'not_object', 'body is not a JSON object');

    // Signed requests are authenticated before anything is decrypted or read.
    const signed = !!(sig.timestamp || sig.nonce || sig.signature);
    if (lark.encryptKey && signed) {
      const { timestamp, nonce, signature } = sig;
      if (!timestamp || !nonce || !signature) return refused(401, 'unsigned', 'signature headers incomplete');
      const ts = Number(timestamp);
      if (!Number.isFinite(ts) || Math.abs(clock.now() - ts * 1000) > MAX_CLOCK_SKEW_MS) {
        return refused(401, 'stale', 'timestamp more than 5 minutes off');
      }
      if (!signatureMatches(computeSignature(timestamp, nonce, lark.encryptKey, raw), signature)) {
        return refused(401, 'bad_signature', 'signature does not match');
      }
    }

    let payload: Record<string, unknown> = outer;
    const encrypted = 'encrypt' in outer;
    if (encrypted) {
      if (!lark.encryptKey) return refused(400, 'no_encrypt_key', 'encrypted body but LARK_ENCRYPT_KEY is not set');
      try {
        const inner: unknown = JSON.parse(decryptPayload(lark.encryptKey, String(outer.encrypt)));
        if (!isObject(inner)) return refused(400, 'bad_ciphertext', 'decrypted body is not a JSON object');
        payload = inner;
      } catch (e) {
        return refused(400, 'bad_ciphertext', e instanceof DecryptError ? e.message : 'decrypted body is not JSON');
      }
    }

    // url_verification may come unsigned (Lark sends the challenge without signature headers).
    if (payload.type === 'url_verification') {
      if (typeof payload.challenge !== 'string') return refused(400, 'bad_challenge', 'challenge missing');
      if (lark.verificationToken && payload.token !== lark.verificationToken) {
        return refused(401, 'bad_token', 'verification token does not match');
      }
      return { body: { challenge: payload.challenge } };
    }

    if (lark.encryptKey && !signed) return refused(401, 'unsigned', 'signature headers missing');

    const parsed = parseEnvelope(payload);
    if (!parsed.ok) return refused(400, 'bad_envelope', parsed.reason);
    const env = parsed.envelope;
    if (lark.verificationToken && env.token !== lark.verificationToken) {
      return refused(401, 'bad_token', 'verification token does not match');
    }
    let r;
    try {
      r = await intake.receive(env);
    } catch (e) {
      // Disk full: not kept, so not acknowledged; Lark redelivers it later.
      if (e instanceof StorageFullError) return refused(503, 'storage_full', e.userMessage);
      throw e;
    }
    return { body: r.status === 'answered' ? r.body : {} };
  }
}

function refused(status: Refusal['status'], reason: string, message: string): { refused: Refusal } {
  return { refused: { status, reason, message } };
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
