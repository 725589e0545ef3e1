import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { TEST_DASHBOARD_SECRET, TEST_METRICS_TOKEN } from './helpers/secrets.js';

/** A value of the form the Lark console issues (32 letters and digits). */
const LARK_LIKE = 'XwkFttsnRxMTXl0f93SwVcYvpVzf1jrm';

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
    const c = loadConfig({ LARK_APP_ID: 'cli_x', LARK_APP_SECRET: LARK_LIKE, ADMIN_OPEN_IDS: 'ou_a, ou_b，ou_c' });
    expect(c.offline).toBe(false);
    expect(c.consoleEnabled).toBe(false);
    expect(c.adminOpenIds).toEqual(['ou_a', 'ou_b', 'ou_c']);
    expect(loadConfig({ LARK_APP_ID: 'cli_x', LARK_APP_SECRET: LARK_LIKE, CONSOLE_ENABLED: 'true' }).consoleEnabled).toBe(true);
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

  function problemsOf(env: NodeJS.ProcessEnv): { variable: string; message: string }[] {
    try {
      loadConfig(env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).problems;
    }
    return [];
  }

  it('accepts strong secrets of our own and real-looking Lark values', () => {
    const c = loadConfig({
      DASHBOARD_SECRET: TEST_DASHBOARD_SECRET,
      METRICS_TOKEN: TEST_METRICS_TOKEN,
      LARK_APP_ID: 'cli_a1b2c3d4e5f60718',
      LARK_APP_SECRET: LARK_LIKE,
      LARK_VERIFICATION_TOKEN: 'LmOHnmv5cT6vEhTMdtuRBeD2xgjJ58tD',
      LARK_ENCRYPT_KEY: 'q8Zr2KxT0vWm4NbY7cLd1FgH5sJp9QeA',
    });
    expect(c.dashboardSecret).toBe(TEST_DASHBOARD_SECRET);
    expect(c.metricsToken).toBe(TEST_METRICS_TOKEN);
  });

  it('refuses the 2-character DASHBOARD_SECRET that was brute-forced from one link, saying why and how to make one', () => {
    const problems = problemsOf({ DASHBOARD_SECRET: 'k9' });
    expect(problems).toHaveLength(1);
    const [p] = problems;
    expect(p!.variable).toBe('DASHBOARD_SECRET');
    expect(p!.message).toContain('太短（2 字节，至少需要 32 字节）');
    expect(p!.message).toContain('暴力破解');
    expect(p!.message).toContain('openssl rand -hex 32');
    expect(p!.message).not.toContain('k9');
  });

  it.each([
    ['DASHBOARD_SECRET', 'a'.repeat(64), '全部是同一个字符'],
    ['DASHBOARD_SECRET', 'k7Qz'.repeat(12), '重复'],
    ['DASHBOARD_SECRET', 'az0mqa0zqm0azmqz0amq0zaqmz0qam0z', '种不同的字符'],
    ['DASHBOARD_SECRET', 'changeme-changeme-changeme-changeme', '占位'],
    ['DASHBOARD_SECRET', 'your-dashboard-secret-here-please-change', '占位'],
    ['DASHBOARD_SECRET', 'web-test-dashboard-secret-0001-with-padding', '占位'],
    ['DASHBOARD_SECRET', '12345678901234567890123456789012', '占位'],
    ['METRICS_TOKEN', 'short-but-random-9f3', '太短'],
    ['METRICS_TOKEN', 'abcdefghijklmnopqrstuvwxyz0123456789', '连续'],
    ['LARK_ENCRYPT_KEY', 'testkey', '占位'],
    ['LARK_ENCRYPT_KEY', 'k3Yq9', '太短（5 字节，至少需要 16 字节）'],
    ['LARK_VERIFICATION_TOKEN', 'xxxxxxxx', '占位'],
    ['LARK_VERIFICATION_TOKEN', 'your_verification_token', '占位'],
  ])('refuses %s = %s (%s), never echoing it', (variable, value, why) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems.map((p) => p.variable)).toEqual([variable]);
    expect(problems[0]!.message).toContain(why);
    expect(problems[0]!.message).not.toContain(value);
  });

  it('refuses a placeholder App Secret and says where the real one is', () => {
    const problems = problemsOf({ LARK_APP_ID: 'cli_x', LARK_APP_SECRET: 'YOUR_APP_SECRET' });
    expect(problems.map((p) => p.variable)).toEqual(['LARK_APP_SECRET']);
    expect(problems[0]!.message).toContain('凭证与基础信息');
  });

  it('refuses one value used for two secrets', () => {
    const problems = problemsOf({ DASHBOARD_SECRET: TEST_DASHBOARD_SECRET, METRICS_TOKEN: TEST_DASHBOARD_SECRET });
    expect(problems.map((p) => p.variable)).toEqual(['METRICS_TOKEN']);
    expect(problems[0]!.message).toContain('与 DASHBOARD_SECRET 相同');
  });

  it('reports a weak secret together with the other problems, and blank means unset', () => {
    const problems = problemsOf({ PORT: 'x', DASHBOARD_SECRET: 'short' });
    expect(problems.map((p) => p.variable).sort()).toEqual(['DASHBOARD_SECRET', 'PORT']);
    expect(loadConfig({ DASHBOARD_SECRET: '  ', METRICS_TOKEN: '' }).dashboardSecret).toBeUndefined();
  });

  it('checks the value as the config uses it (trimmed)', () => {
    expect(loadConfig({ DASHBOARD_SECRET: ` ${TEST_DASHBOARD_SECRET}\n` }).dashboardSecret).toBe(TEST_DASHBOARD_SECRET);
    expect(problemsOf({ DASHBOARD_SECRET: `   ${'ab'}                                        ` }).map((p) => p.variable)).toEqual(['DASHBOARD_SECRET']);
  });
});
