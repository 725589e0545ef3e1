import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { DataDirLockedError } from '../src/store/data-dir-lock.js';
import { configErrorLines, describePgUrl, startupErrorLines, unexpectedStartupLine } from '../src/startup-errors.js';

const ctx = { dataDir: '/srv/huanjie/data', dbFile: '/srv/huanjie/data/huanjie.db', port: 3000, host: '0.0.0.0' };
const errno = (code: string, path?: string) => Object.assign(new Error(`${code}: something, open '${path ?? ''}'`), { code, path });
const one = (lines: string[] | null) => {
  expect(lines).not.toBeNull();
  expect(lines).toHaveLength(1);
  expect(lines![0]).not.toContain('\n');
  expect(lines![0]).toMatch(/[\u4e00-\u9fff]/);
  return lines![0]!;
};

describe('start-up errors in Chinese', () => {
  it('port in use names PORT and the port', () => {
    const l = one(startupErrorLines(errno('EADDRINUSE'), 'listen', ctx));
    expect(l).toContain('PORT=3000');
    expect(l).toContain('已被占用');
  });
  it('a privileged port says to use one above 1024', () => {
    expect(one(startupErrorLines(errno('EACCES'), 'listen', { ...ctx, port: 80 }))).toContain('1024');
  });
  it('an unwritable DATA_DIR names the path and suggests chown/chmod', () => {
    for (const code of ['EACCES', 'EPERM', 'SQLITE_READONLY', 'SQLITE_CANTOPEN']) {
      const l = one(startupErrorLines(errno(code, '/srv/huanjie/data/huanjie.lock'), 'data_dir', ctx));
      expect(l).toContain('DATA_DIR=/srv/huanjie/data');
      expect(l).toContain('chown');
      expect(l).toContain('chmod');
    }
  });
  it('a read-only file system and a path through a file are told apart', () => {
    expect(one(startupErrorLines(errno('EROFS'), 'data_dir', ctx))).toContain('只读');
    expect(one(startupErrorLines(errno('ENOTDIR', '/srv/huanjie/data'), 'data_dir', ctx))).toContain('不是一个目录');
  });
  it('a full disk names DATA_DIR, from the errno or from SQLite', () => {
    for (const e of [errno('ENOSPC'), errno('SQLITE_FULL'), errno('EDQUOT'), new Error('database or disk is full')]) {
      const l = one(startupErrorLines(e, 'database', ctx));
      expect(l).toContain('磁盘已满');
      expect(l).toContain('DATA_DIR=/srv/huanjie/data');
    }
  });
  it('PostgreSQL unreachable names the host without the password', () => {
    const url = 'postgres://hj:s3cretpw@db.example:6543/huanjie';
    const l = one(startupErrorLines(new Error('connection to server at "10.0.0.5", port 6543 failed: Connection refused'), 'database', { ...ctx, databaseUrl: url }));
    expect(l).toContain('DATABASE_URL');
    expect(l).toContain('db.example:6543/huanjie');
    expect(l).toContain('连接被拒绝');
    expect(l).not.toContain('s3cretpw');
    expect(describePgUrl('postgres://u:p@h/d')).toBe('h:5432/d');
    expect(one(startupErrorLines(new Error('password authentication failed for user "hj"'), 'database', { ...ctx, databaseUrl: url }))).toContain('密码');
  });
  it('the DATA_DIR lock refusal keeps its own message', () => {
    const l = one(startupErrorLines(new DataDirLockedError('/srv/huanjie/data', 4242), 'data_dir', ctx));
    expect(l).toContain('另一个换届助手进程（PID 4242）正在使用数据目录 /srv/huanjie/data；同一数据目录只能运行一个服务');
  });
  it('a bad .env value: one line per problem, the variable and value, in Chinese; secrets not echoed', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'abc', DIGEST_TIME: '8:30' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const lines = configErrorLines(err as ConfigError, { PORT: 'abc', DIGEST_TIME: '8:30' });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('配置有误，服务未启动：PORT（当前为 "abc"） 应为数字；请在 .env 文件或环境变量中改正 PORT。');
    expect(lines.join('\n')).toContain('DIGEST_TIME（当前为 "8:30"） 应为 HH:MM 格式');
    expect(lines.join('\n')).not.toMatch(/Invalid|expected/);
    const secret = configErrorLines(new ConfigError([{ variable: 'LARK_APP_SECRET', message: 'x' }]), { LARK_APP_SECRET: 'topsecret' });
    expect(secret[0]).not.toContain('topsecret');
  });
  it('zod English is translated', () => {
    const l = configErrorLines(new ConfigError([{ variable: 'PORT', message: 'Too big: expected number to be <=65535' }]));
    expect(l[0]).toContain('不能大于 65535');
    expect(configErrorLines(new ConfigError([{ variable: 'HOST', message: 'Too small: expected string to have >=1 characters' }]))[0]).toContain('不能为空');
  });
  it('an unknown error still gives one Chinese line', () => {
    expect(startupErrorLines(new Error('boom'), 'start', ctx)).toBeNull();
    const l = unexpectedStartupLine(new Error('boom\nat x'));
    expect(l).toContain('启动失败');
    expect(l).not.toContain('\n');
  });
});
