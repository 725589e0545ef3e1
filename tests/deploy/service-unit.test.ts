/**
 * Issue 16: the shipped systemd unit and nginx example are valid for the tools that will read them.
 * `systemd-analyze verify` and `nginx -t` run where installed (.ci/run installs both); elsewhere the
 * tests are skipped with the reason shown. Each check is also run on a broken copy, so that a check
 * which cannot fail would be noticed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/spawn.js';
import { scaled } from '../helpers/time-scale.js';
import { loadConfig } from '../../src/config.js';

const which = (cmd: string): string => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
const SYSTEMD_ANALYZE = which('systemd-analyze');
const NGINX = which('nginx') || (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : '');
const OPENSSL = which('openssl');
const UNIT = readFileSync(join(ROOT, 'deploy/huanjie-bot.service'), 'utf8');
const NGINX_CONF = readFileSync(join(ROOT, 'deploy/nginx-huanjie-bot.conf'), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'hj-deploy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function verifyUnit(text: string, name: string): { code: number | null; out: string } {
  // verify insists that ExecStart's binary exists: this machine's node stands in for /usr/bin/node.
  const file = join(tmp, name);
  writeFileSync(file, text.replace('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
  const r = spawnSync(SYSTEMD_ANALYZE, ['verify', file], { encoding: 'utf8', timeout: scaled(60_000) });
  // verify exits 0 on settings it ignores (it only warns): any line about our file is a failure.
  const out = (r.stdout + r.stderr)
    .split('\n')
    .filter((l) => l.includes(name))
    .join('\n');
  return { code: r.status, out };
}

describe('deploy/huanjie-bot.service', () => {
  it('has the layout and hardening the docs describe', () => {
    for (const line of [
      'User=huanjie',
      'Group=huanjie',
      'WorkingDirectory=/opt/huanjie-bot/current',
      'EnvironmentFile=/etc/huanjie-bot/huanjie-bot.env',
      'ExecStart=/usr/bin/node /opt/huanjie-bot/current/dist/server.js',
      'Restart=on-failure',
      'TimeoutStopSec=15',
      'KillMode=mixed',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'PrivateDevices=yes',
      'ReadWritePaths=/var/lib/huanjie-bot',
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    ]) {
      expect(UNIT.split('\n'), line).toContain(line);
    }
    expect(UNIT).toMatch(/^RestartSec=\d+/m);
    expect(UNIT).toMatch(/^LimitNOFILE=\d+/m);
    // V8 needs writable+executable pages.
    expect(UNIT).not.toMatch(/^MemoryDenyWriteExecute=yes/m);
  });

  it.skipIf(!SYSTEMD_ANALYZE)(
    `passes systemd-analyze verify${SYSTEMD_ANALYZE ? '' : ' — skipped: systemd-analyze is not installed (apt-get install systemd)'}`,
    () => {
      const ok = verifyUnit(UNIT, 'huanjie-bot.service');
      expect(ok.out).toBe('');
      expect(ok.code).toBe(0);
      const bad = verifyUnit(UNIT.replace(/^KillMode=mixed$/m, 'KillMode=gently'), 'huanjie-bot-broken.service');
      expect(bad.out).toMatch(/kill mode|KillMode/i);
    },
  );
});

describe('deploy/nginx-huanjie-bot.conf', () => {
  it('proxies /lark/events with the app’s 1 MB body limit and keeps /metrics internal', () => {
    expect(NGINX_CONF).toMatch(/location = \/lark\/events \{\s*limit_except POST \{ deny all; \}[^}]*proxy_pass http:\/\/huanjie_bot;/);
    expect(NGINX_CONF).toMatch(/^\s*client_max_body_size 1m;/m);
    expect(readFileSync(join(ROOT, 'src/app.ts'), 'utf8')).toContain('bodyLimit: 1024 * 1024');
    expect(NGINX_CONF).toMatch(/location = \/metrics \{[^}]*deny all;/s);
    expect(NGINX_CONF).toContain('server 127.0.0.1:3000;');
    expect(NGINX_CONF).toMatch(/return 301 https:\/\/\$host\$request_uri;/);
    for (const h of ['X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Host']) expect(NGINX_CONF).toContain(`proxy_set_header ${h}`);
  });

  it('cuts slow clients off and reuses upstream connections for less than the service keeps them (issue 17)', () => {
    expect(NGINX_CONF).toMatch(/^\s*client_header_timeout 10s;/m);
    expect(NGINX_CONF).toMatch(/^\s*client_body_timeout\s+10s;/m);
    expect(NGINX_CONF).toMatch(/^\s*limit_conn huanjie_conn \d+;/m);
    const upstream = /keepalive_timeout (\d+)s;/.exec(/upstream huanjie_bot \{[^}]*\}/.exec(NGINX_CONF)![0]);
    expect(Number(upstream![1]) * 1000).toBeLessThan(loadConfig({ DATA_DIR: tmp }).http.keepAliveTimeoutMs);
  });

  const canTest = Boolean(NGINX && OPENSSL);
  it.skipIf(!canTest)(
    `passes nginx -t with a self-signed certificate${canTest ? '' : ` — skipped: ${NGINX ? 'openssl' : 'nginx'} is not installed (apt-get install nginx openssl)`}`,
    () => {
      const crt = join(tmp, 'test.crt');
      const key = join(tmp, 'test.key');
      const gen = spawnSync(
        OPENSSL,
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=bot.example.gov.cn', '-keyout', key, '-out', crt],
        { encoding: 'utf8', timeout: scaled(60_000) },
      );
      expect(gen.status, gen.stderr).toBe(0);
      const check = (site: string, name: string) => {
        const dir = mkdtempSync(join(tmp, `${name}-`));
        // Only what -t needs outside /etc: certificate, logs, pid in the temp folder; ports in 39200-39299.
        writeFileSync(
          join(dir, 'site.conf'),
          site
            .replaceAll('/etc/nginx/ssl/huanjie-bot.crt', crt)
            .replaceAll('/etc/nginx/ssl/huanjie-bot.key', key)
            .replaceAll('/var/log/nginx/', `${dir}/`)
            .replace(/listen (\[::\]:)?80;/g, 'listen $139280;')
            .replace(/listen (\[::\]:)?443 /g, 'listen $139281 '),
        );
        writeFileSync(
          join(dir, 'nginx.conf'),
          `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  include ${dir}/site.conf;\n}\n`,
        );
        return spawnSync(NGINX, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8', timeout: scaled(60_000) });
      };
      const ok = check(NGINX_CONF, 'ok');
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stderr).toContain('test is successful');
      const bad = check(NGINX_CONF.replace('client_max_body_size 1m;', 'client_max_body_size one-megabyte;'), 'bad');
      expect(bad.status).not.toBe(0);
    },
  );
});
