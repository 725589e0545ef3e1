import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('config', () => {
  it('has working defaults: offline mode, feishu domain, Asia/Shanghai', () => {
    const c = loadConfig({});
    expect(c.offline).toBe(true);
    expect(c.port).toBe(3000);
    expect(c.lark.domain).toBe('https://open.feishu.cn');
    expect(c.lark.eventMode).toBe('webhook');
    expect(c.tz).toBe('Asia/Shanghai');
    expect(c.digestTime).toBe('08:30');
    expect(c.reminderTime).toBe('09:00');
    expect(c.quietHours).toEqual({ start: '22:00', end: '07:30' });
    expect(c.consoleEnabled).toBe(true);
    expect(c.llm).toBeUndefined();
  });

  it('resolves lark, feishu and custom domains', () => {
    expect(loadConfig({ LARK_DOMAIN: 'lark' }).lark.domain).toBe('https://open.larksuite.com');
    expect(loadConfig({ LARK_DOMAIN: 'http://127.0.0.1:9999/' }).lark.domain).toBe('http://127.0.0.1:9999');
  });

  it('goes online with app credentials, and turns the console off unless asked', () => {
    const c = loadConfig({ LARK_APP_ID: 'cli_x', LARK_APP_SECRET: 's', ADMIN_OPEN_IDS: 'ou_a, ou_b，ou_c' });
    expect(c.offline).toBe(false);
    expect(c.consoleEnabled).toBe(false);
    expect(c.adminOpenIds).toEqual(['ou_a', 'ou_b', 'ou_c']);
    expect(loadConfig({ LARK_APP_ID: 'cli_x', LARK_APP_SECRET: 's', CONSOLE_ENABLED: 'true' }).consoleEnabled).toBe(true);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DIGEST_TIME: '8:30' }, 'DIGEST_TIME'],
    [{ REMINDER_TIME: '25:00' }, 'REMINDER_TIME'],
    [{ QUIET_HOURS: '22-7' }, 'QUIET_HOURS'],
    [{ TZ_NAME: 'Mars/Olympus' }, 'TZ_NAME'],
    [{ LARK_EVENT_MODE: 'socket' }, 'LARK_EVENT_MODE'],
    [{ LARK_DOMAIN: 'ftp://x' }, 'LARK_DOMAIN'],
    [{ LARK_APP_ID: 'cli_x' }, 'LARK_APP_SECRET'],
    [{ LLM_BASE_URL: 'not a url', LLM_MODEL: 'm' }, 'LLM_BASE_URL'],
    [{ LLM_BASE_URL: 'http://127.0.0.1:1/v1' }, 'LLM_MODEL'],
    [{ CONSOLE_ENABLED: 'maybe' }, 'CONSOLE_ENABLED'],
  ])('refuses %o naming %s', (env, variable) => {
    try {
      loadConfig(env as NodeJS.ProcessEnv);
      expect.unreachable('should have thrown');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems.map((p) => p.variable)).toContain(variable);
      expect((e as Error).message).toContain(variable);
    }
  });

  it('never echoes a secret in its error message', () => {
    try {
      loadConfig({ LARK_APP_SECRET: 'super-secret-value', PORT: 'x' });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain('super-secret-value');
    }
  });
});
