import { describe, expect, it } from 'vitest';
import { computeSignature, decryptPayload, DecryptError, signatureMatches } from '../../src/bot/lark-crypto.js';
import { fixture } from '../helpers/events.js';
import { larkEncrypt } from '../helpers/lark-sign.js';

describe('lark crypto', () => {
  it('decrypts the platform test vector', () => {
    const v = fixture<{ encrypt_key: string; encrypt: string; plaintext: string }>('encrypt.test_vector.json');
    expect(decryptPayload(v.encrypt_key, v.encrypt)).toBe(v.plaintext);
  });

  it('round-trips Chinese JSON encrypted the way Lark does', () => {
    const plain = JSON.stringify({ text: '选民名单要提前多少天公布？' });
    expect(decryptPayload('k1', larkEncrypt('k1', plain))).toBe(plain);
  });

  it('refuses ciphertext under the wrong key or that is not base64', () => {
    const c = larkEncrypt('right key', '{"a":1}');
    expect(() => decryptPayload('wrong key', c)).toThrow(DecryptError);
    expect(() => decryptPayload('k', 'not base64 at all!!')).toThrow(DecryptError);
    expect(() => decryptPayload('k', 'QUJD')).toThrow(DecryptError);
  });

  it('signs timestamp + nonce + key + raw body (vector computed independently with Python hashlib)', () => {
    expect(computeSignature('1795400000', 'nonce-hj-1', 'hj-test-encrypt-key-0001', '{"encrypt":"abc"}')).toBe(
      '04298cb627b32923c9e426cdf42418c798e5b8c24da06d6ada858273a88322d6',
    );
  });

  it('compares signatures exactly, ignoring hex case, and rejects other lengths', () => {
    const s = computeSignature('1', 'n', 'k', 'b');
    expect(signatureMatches(s, s.toUpperCase())).toBe(true);
    expect(signatureMatches(s, s.slice(0, -1) + (s.endsWith('0') ? '1' : '0'))).toBe(false);
    expect(signatureMatches(s, s.slice(0, 10))).toBe(false);
  });
});
