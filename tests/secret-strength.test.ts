import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isPlaceholder, OWN_SECRET, SECRET_RULES, secretProblems, weakness } from '../src/secret-strength.js';
import { TEST_DASHBOARD_SECRET, TEST_METRICS_TOKEN } from './helpers/secrets.js';

const LARK_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** A value of the form the Lark console issues: 32 random letters and digits. */
function larkLike(): string {
  return [...randomBytes(32)].map((b) => LARK_ALPHABET[b % 62]).join('');
}

describe('secret strength', () => {
  it('passes what `openssl rand -hex 32`, `openssl rand -base64 32` and the Lark console produce', () => {
    // A check that refused a random value would stop a correctly configured service from starting.
    for (let i = 0; i < 5000; i++) {
      const hex = randomBytes(32).toString('hex');
      const b64 = randomBytes(32).toString('base64');
      expect(weakness(hex, OWN_SECRET), hex).toBeUndefined();
      expect(weakness(b64, OWN_SECRET), b64).toBeUndefined();
      for (const name of ['LARK_APP_SECRET', 'LARK_VERIFICATION_TOKEN', 'LARK_ENCRYPT_KEY']) {
        const v = larkLike();
        expect(weakness(v, SECRET_RULES[name]!.rule), `${name} ${v}`).toBeUndefined();
      }
    }
    expect(weakness(TEST_DASHBOARD_SECRET, OWN_SECRET)).toBeUndefined();
    expect(weakness(TEST_METRICS_TOKEN, OWN_SECRET)).toBeUndefined();
  });

  it('measures bytes, not characters', () => {
    expect(weakness('短密钥', OWN_SECRET)).toEqual({ kind: 'too_short', bytes: 9, min: 32 });
    expect(weakness('密'.repeat(11), OWN_SECRET)).toEqual({ kind: 'one_char' }); // 33 bytes, still refused
    expect(weakness(`${randomBytes(31).toString('hex').slice(0, 31)}`, OWN_SECRET)).toMatchObject({ kind: 'too_short', bytes: 31 });
  });

  it.each([
    ['a', 'one_char'],
    ['zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', 'one_char'],
    ['9f3k'.repeat(10), 'repeated'],
    ['0123456789abcdef0123456789abcdef', 'repeated'],
    ['abcdefghijklmnopqrstuvwxyzABCDEF', 'sequential'],
    ['zyxwvutsrqponmlkjihgfedcba987654', 'sequential'],
    ['az0mqa0zqm0azmqz0amq0zaqmz0qam0z', 'few_distinct'],
    ['k9', 'too_short'],
  ])('%s → %s', (value, kind) => {
    expect(weakness(value, OWN_SECRET)?.kind).toBe(kind);
  });

  it.each([
    'changeme', 'ChangeMe123', 'password', 'Password1', 'secret', 'test', 'testkey', 'test key', 'test-anything-at-all',
    '123456', '1234567890', 'xxx', 'XXXXXXXXXXXXXXXX', 'your-secret-here', 'YOUR_APP_SECRET_HERE', 'your_verification_token',
    '<your-secret>', '${DASHBOARD_SECRET}', '{{token}}', '***', 'my_lark_encrypt_key', 'placeholder', 'example-key',
  ])('%s is a placeholder even for a Lark value', (value) => {
    expect(isPlaceholder(value, 'whole')).toBe(true);
  });

  it('our own secrets are held to more: a typed phrase is refused', () => {
    for (const v of ['huanjie-county-dashboard-2026-q8z7x6w5v4', 'my-county-dashboard-secret-2026-abc', 'testing1234567890abcdefghqwzrtypl', 'aRealLookingValueButWithSecretInIt99']) {
      expect(weakness(v, OWN_SECRET)?.kind, v).toBe('placeholder');
    }
    // …while a Lark-issued value is only refused when it is a placeholder as a whole.
    expect(isPlaceholder('sec_hj_test_app_secret_0001', 'whole')).toBe(false);
  });

  it('messages name the reason and the fix, never the value', () => {
    const values: Record<string, string> = {
      DASHBOARD_SECRET: 'dash-2026',
      METRICS_TOKEN: 'Qq'.repeat(20),
      LARK_ENCRYPT_KEY: 'huanjie-key',
      LARK_APP_SECRET: 'your_app_secret',
      LARK_VERIFICATION_TOKEN: 'vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv',
    };
    const problems = secretProblems(values);
    expect(problems.map((p) => p.variable).sort()).toEqual(Object.keys(values).sort());
    for (const p of problems) {
      expect(p.message).not.toContain(values[p.variable]);
      expect(p.message).toMatch(/openssl rand -hex 32|飞书开发者后台/);
    }
  });

  it('does not judge the model API keys (a local server takes any value)', () => {
    expect(secretProblems({ LLM_API_KEY: 'EMPTY', EMBEDDING_API_KEY: 'x' })).toEqual([]);
  });

  it('.env.example offers no sample value that would start', () => {
    // Every checked variable is documented there; a sample value, if one is ever added, must be refused.
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    for (const name of Object.keys(SECRET_RULES)) {
      const line = example.split('\n').find((l) => l.startsWith(`${name}=`));
      expect(line, name).toBeDefined();
      const value = line!.slice(name.length + 1).trim();
      if (value !== '') expect(secretProblems({ [name]: value }), name).not.toEqual([]);
    }
  });
});
