import { createCipheriv, createHash, randomBytes } from 'node:crypto';

/** Encrypts like Lark: base64(iv ‖ AES-256-CBC(sha256(key), iv, plaintext)), PKCS7 padding. */
export function larkEncrypt(encryptKey: string, plaintext: string, iv: Buffer = randomBytes(16)): string {
  const key = createHash('sha256').update(encryptKey).digest();
  const c = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([iv, c.update(plaintext, 'utf8'), c.final()]).toString('base64');
}

export function larkSignature(timestamp: string, nonce: string, encryptKey: string, rawBody: string): string {
  return createHash('sha256').update(timestamp + nonce + encryptKey + rawBody).digest('hex');
}

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/** A request as Lark sends it: optionally encrypted, signed over the raw body. */
export function larkRequest(
  payload: unknown,
  opts: { encryptKey?: string; encrypt?: boolean; sign?: boolean; nowMs?: number; nonce?: string },
): SignedRequest {
  const plain = JSON.stringify(payload);
  const body =
    opts.encrypt && opts.encryptKey ? JSON.stringify({ encrypt: larkEncrypt(opts.encryptKey, plain) }) : plain;
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (opts.sign !== false && opts.encryptKey) {
    const ts = String(Math.floor((opts.nowMs ?? Date.now()) / 1000));
    const nonce = opts.nonce ?? randomBytes(8).toString('hex');
    headers['x-lark-request-timestamp'] = ts;
    headers['x-lark-request-nonce'] = nonce;
    headers['x-lark-signature'] = larkSignature(ts, nonce, opts.encryptKey, body);
  }
  return { body, headers };
}
