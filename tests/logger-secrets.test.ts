import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';

/**
 * Regression test (issue 8 §4, found by tests/faults/access.fault.ts): an
 * OpenAI-compatible gateway answered 401 quoting the API key it was sent; the
 * knowledge service logged that error text as `reason` in an object, where the
 * old string-argument masking never looked, so the key went to the log.
 */
describe('logger: secrets never reach a log line', () => {
  const secrets = {
    LARK_APP_SECRET: 'appsec_LOGTEST_0123456789',
    LARK_ENCRYPT_KEY: 'enckey_LOGTEST_abcdefghij',
    LARK_VERIFICATION_TOKEN: 'vtoken_LOGTEST_klmnopqrst',
    LLM_API_KEY: 'sk-LOGTEST-llm-uvwxyz0123',
    DASHBOARD_SECRET: 'dash_LOGTEST_456789abcd_e1f7c2a9b3d80f64',
  };
  function capture() {
    const lines: string[] = [];
    const config = loadConfig({ LARK_APP_ID: 'cli_x', LARK_DOMAIN: 'http://127.0.0.1:1', LLM_BASE_URL: 'http://127.0.0.1:2/v1', LLM_MODEL: 'm', LOG_LEVEL: 'trace', ...secrets });
    const logger = createLogger(config, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    return { logger, lines };
  }

  it('masks a secret in any field, nested, in child loggers, JSON-escaped or base64-encoded', () => {
    const { logger, lines } = capture();
    const key = secrets.LLM_API_KEY;
    logger.child({ component: 'kb' }).warn({ reason: `401 Incorrect API key provided: ${key}` }, 'kb: model answer rejected; using the offline answer');
    logger.error({ err: new Error(`upstream said ${secrets.LARK_APP_SECRET}`) }, 'failed');
    logger.info({ deep: { a: { b: { c: [secrets.LARK_VERIFICATION_TOKEN] } } } }, 'nested');
    logger.debug({ header: `Basic ${Buffer.from(`user:${secrets.DASHBOARD_SECRET}`).toString('base64')}` }, 'encoded');
    logger.info({ quoted: `"${secrets.LARK_ENCRYPT_KEY}"\n` }, `message with ${secrets.LARK_ENCRYPT_KEY}`);
    const all = lines.join('');
    expect(lines).toHaveLength(5);
    for (const [name, v] of Object.entries(secrets)) {
      expect(all, name).not.toContain(v);
      expect(all, name).not.toContain(v.slice(4, -4));
    }
    expect(all).not.toContain(Buffer.from(`user:${secrets.DASHBOARD_SECRET}`).toString('base64').slice(4, 30));
    // What is not a secret stays readable.
    expect(all).toContain('401 Incorrect API key provided: [redacted]');
    expect(all).toContain('"component":"kb"');
  });
});
