import { createHash, timingSafeEqual } from 'node:crypto';
import { lark } from './lark-sdk.js';

/**
 * Lark's event security (接收事件/回调 page): the body may be {"encrypt": base64(iv ‖ AES-256-CBC)}
 * with key sha256(encrypt_key), and is signed as hex(sha256(timestamp + nonce + encrypt_key + raw_body)).
 * The signature is computed over the raw bytes, never over re-serialised JSON.
 */
export function computeSignature(timestamp: string, nonce: string, encryptKey: string, rawBody: string): string {
  return createHash('sha256').update(timestamp + nonce + encryptKey, 'utf8').update(rawBody, 'utf8').digest('hex');
}

export function signatureMatches(expectedHex: string, givenHex: string): boolean {
  const a = Buffer.from(expectedHex, 'utf8');
  const b = Buffer.from(givenHex.toLowerCase(), 'utf8');
  // timingSafeEqual needs equal lengths; a length mismatch leaks nothing secret.
  return a.length === b.length && timingSafeEqual(a, b);
}

export class DecryptError extends Error {}

export function decryptPayload(encryptKey: string, encrypt: string): string {
  if (typeof encrypt !== 'string' || encrypt.length < 44 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encrypt)) {
    throw new DecryptError('encrypt is not valid base64 ciphertext');
  }
  try {
    return new lark.AESCipher(encryptKey).decrypt(encrypt);
  } catch (e) {
    throw new DecryptError(`cannot decrypt: ${(e as Error).message}`);
  }
}
