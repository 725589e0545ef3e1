import { z } from 'zod';
import { resolve } from 'node:path';
import { secretProblems } from './secret-strength.js';
import type { HttpLimits } from './http-limits.js';

/**
 * One schema over the environment (SPEC §3.1). A bad value stops start-up with a
 * message naming the variable and what it expects; secrets are never echoed back.
 */
const hhmm = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, '应为 HH:MM 格式，例如 08:30');

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const optionalUrl = optionalText.pipe(z.url({ message: '应为完整的 URL，例如 http://127.0.0.1:8000/v1' }).optional());

const bool = (dflt: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return dflt;
      const s = v.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off'].includes(s)) return false;
      ctx.addIssue({ code: 'custom', message: '应为 true 或 false' });
      return z.NEVER;
    });

export const envSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    DATA_DIR: z.string().min(1).default('./data'),
    // The PostgreSQL store (issue 7): unset means the SQLite file in DATA_DIR.
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, '须以 postgres:// 或 postgresql:// 开头')
      .optional()
      .or(z.literal('').transform(() => undefined)),
    DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, '须为小写字母、数字和下划线').default('public'),
    KNOWLEDGE_DIR: z.string().min(1).default('./knowledge'),
    // Per-file limits of the policy library (src/knowledge/ingest-limits.ts), in MB.
    KB_MAX_FILE_MB: z.coerce.number({ message: '应为数字（MB）' }).positive('应大于 0').max(1024, '不能超过 1024').default(20),
    KB_MAX_TEXT_MB: z.coerce.number({ message: '应为数字（MB）' }).positive('应大于 0').max(100, '不能超过 100').default(2),
    KB_MAX_UNZIPPED_MB: z.coerce.number({ message: '应为数字（MB）' }).positive('应大于 0').max(1024, '不能超过 1024').default(50),
    LARK_APP_ID: optionalText,
    LARK_APP_SECRET: optionalText,
    LARK_VERIFICATION_TOKEN: optionalText,
    LARK_ENCRYPT_KEY: optionalText,
    LARK_DOMAIN: z
      .string()
      .default('feishu')
      .refine((v) => v === 'feishu' || v === 'lark' || /^https?:\/\/[^\s/]+(:\d+)?(\/[^\s]*)?$/.test(v), {
        message: '应为 feishu、lark 或以 http(s):// 开头的地址',
      }),
    LARK_EVENT_MODE: z.enum(['webhook', 'ws'], { message: '应为 webhook 或 ws' }).default('webhook'),
    LARK_BOT_OPEN_ID: optionalText,
    LLM_BASE_URL: optionalUrl,
    LLM_API_KEY: optionalText,
    LLM_MODEL: optionalText,
    // LLM mode: the model rewrites a question into search terms within this time, else the question is searched as typed.
    LLM_REWRITE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
    // LLM mode with Lark: stream the answer into the card (CardKit); off → one card when the answer is ready.
    LARK_CARD_STREAMING: bool(true),
    EMBEDDING_BASE_URL: optionalUrl,
    EMBEDDING_MODEL: optionalText,
    EMBEDDING_API_KEY: optionalText,
    TZ_NAME: z
      .string()
      .default('Asia/Shanghai')
      .refine(isValidTimeZone, { message: '应为 IANA 时区名，例如 Asia/Shanghai' }),
    DIGEST_TIME: hhmm.default('08:30'),
    REMINDER_TIME: hhmm.default('09:00'),
    QUIET_HOURS: z
      .string()
      .default('22:00-07:30')
      .refine((v) => v === '' || /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/.test(v), {
        message: '应为 HH:MM-HH:MM 格式，例如 22:00-07:30（留空表示不设免打扰）',
      }),
    ADMIN_OPEN_IDS: z
      .string()
      .default('')
      .transform((v) => v.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean)),
    CONSOLE_ENABLED: bool(false).optional(),
    DASHBOARD_SECRET: optionalText,
    PUBLIC_BASE_URL: optionalUrl,
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SEND_RATE_PER_APP: z.coerce.number().positive().default(50),
    SEND_RATE_PER_RECEIVER: z.coerce.number().positive().default(5),
    // Slow clients (issue 17): how long a request may take to arrive, how long an idle keep-alive connection
    // stays, and how many connections one address may hold (src/http-limits.ts).
    HTTP_HEADERS_TIMEOUT_MS: z.coerce.number({ message: '应为整数（毫秒）' }).int('应为整数（毫秒）').min(1000, '至少 1000（1 秒）').max(600_000, '不能超过 600000（10 分钟）').default(10_000),
    HTTP_REQUEST_TIMEOUT_MS: z.coerce.number({ message: '应为整数（毫秒）' }).int('应为整数（毫秒）').min(1000, '至少 1000（1 秒）').max(600_000, '不能超过 600000（10 分钟）').default(10_000),
    HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number({ message: '应为整数（毫秒）' }).int('应为整数（毫秒）').min(1000, '至少 1000（1 秒）').max(600_000, '不能超过 600000（10 分钟）').default(5000),
    HTTP_MAX_CONNECTIONS_PER_IP: z.coerce.number({ message: '应为整数' }).int('应为整数').min(0, '不能小于 0（0 表示不限）').default(32),
    HTTP_CONNECTION_LIMIT_EXEMPT: z
      .string()
      .default('127.0.0.1,::1')
      .transform((v) => v.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean)),
    HTTP_MAX_CONNECTIONS: z.coerce.number({ message: '应为整数' }).int('应为整数').min(0, '不能小于 0（0 表示不限）').default(1000),
    // /metrics: with a token, a bearer token is required; without one, only loopback callers are served.
    METRICS_TOKEN: optionalText,
    // Scheduled online backups (src/store/backup.ts): where, when (cron, in TZ_NAME) and how many are kept.
    BACKUP_DIR: z.string().min(1).optional(),
    BACKUP_SCHEDULE: z
      .string()
      .default('0 2 * * *')
      .refine((v) => v === '' || v.trim().split(/\s+/).length === 5, {
        message: '应为 5 段 cron 表达式，例如 0 2 * * *（每天 02:00）；留空表示不做定时备份',
      }),
    BACKUP_KEEP: z.coerce.number({ message: '应为整数' }).int('应为整数').min(1, '至少保留 1 份').max(3650).default(14),
  })
  .superRefine((env, ctx) => {
    if (env.LARK_APP_ID && !env.LARK_APP_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['LARK_APP_SECRET'], message: '设置了 LARK_APP_ID 时必须同时设置' });
    }
    if (env.LLM_BASE_URL && !env.LLM_MODEL) {
      ctx.addIssue({ code: 'custom', path: ['LLM_MODEL'], message: '设置了 LLM_BASE_URL 时必须同时设置模型名' });
    }
    if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
      ctx.addIssue({ code: 'custom', path: ['HTTP_HEADERS_TIMEOUT_MS'], message: '不能大于 HTTP_REQUEST_TIMEOUT_MS（请求头是整个请求的一部分）' });
    }
    if (env.EMBEDDING_BASE_URL && !env.EMBEDDING_MODEL) {
      ctx.addIssue({ code: 'custom', path: ['EMBEDDING_MODEL'], message: '设置了 EMBEDDING_BASE_URL 时必须同时设置模型名' });
    }
  });

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  dbFile: string;
  /** postgres://… when the PostgreSQL store is used; undefined for SQLite. */
  databaseUrl?: string;
  databaseSchema: string;
  knowledgeDir: string;
  /** What one document may be: on disk, as text, and (.docx) inflated; MB. */
  kbLimits: { fileMb: number; textMb: number; unzippedMb: number };
  lark: {
    appId?: string;
    appSecret?: string;
    verificationToken?: string;
    encryptKey?: string;
    /** Resolved base URL of the Open Platform, without trailing slash. */
    domain: string;
    eventMode: 'webhook' | 'ws';
    /** The bot's own open_id; fetched from /bot/v3/info at start when not set. */
    botOpenId?: string;
  };
  /** No LARK_APP_ID: nothing is sent to Lark, messages go to the log and the outbox. */
  offline: boolean;
  llm?: { baseUrl: string; apiKey?: string; model: string; rewriteTimeoutMs: number };
  /** Stream LLM answers into the card with CardKit (falls back to a normal card when unavailable). */
  cardStreaming: boolean;
  embedding?: { baseUrl: string; apiKey?: string; model: string };
  tz: string;
  digestTime: string;
  reminderTime: string;
  quietHours?: { start: string; end: string };
  adminOpenIds: string[];
  consoleEnabled: boolean;
  dashboardSecret?: string;
  /** The service's public address, for links in cards (the dashboard's 查看详情). */
  publicBaseUrl?: string;
  logLevel: string;
  sendRatePerApp: number;
  sendRatePerReceiver: number;
  /** Time and connection limits of the HTTP server (slow clients; src/http-limits.ts). */
  http: HttpLimits;
  /** Bearer token for /metrics; unset → /metrics answers loopback callers only. */
  metricsToken?: string;
  /** Scheduled backups: schedule '' → none. dir defaults to DATA_DIR/backups. */
  backup: { dir: string; schedule: string; keep: number };
}

export class ConfigError extends Error {
  constructor(public readonly problems: { variable: string; message: string }[]) {
    super(
      '配置有误，服务未启动 / invalid configuration:\n' +
        problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export const SECRET_VARIABLES = [
  'LARK_APP_SECRET',
  'LARK_VERIFICATION_TOKEN',
  'LARK_ENCRYPT_KEY',
  'LLM_API_KEY',
  'EMBEDDING_API_KEY',
  'DASHBOARD_SECRET',
  'METRICS_TOKEN',
  // may carry a password
  'DATABASE_URL',
] as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  // Weak secrets are refused at start (issue 16): a short DASHBOARD_SECRET is brute-forced from one signed link.
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '?'), message: i.message }))),
    ...secretProblems(env),
  ];
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  const dataDir = resolve(e.DATA_DIR);
  const offline = !e.LARK_APP_ID;
  const [qs, qe] = e.QUIET_HOURS ? e.QUIET_HOURS.split('-') : [];
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    dbFile: resolve(dataDir, 'huanjie.db'),
    databaseUrl: e.DATABASE_URL,
    databaseSchema: e.DATABASE_SCHEMA,
    knowledgeDir: resolve(e.KNOWLEDGE_DIR),
    kbLimits: { fileMb: e.KB_MAX_FILE_MB, textMb: e.KB_MAX_TEXT_MB, unzippedMb: e.KB_MAX_UNZIPPED_MB },
    lark: {
      appId: e.LARK_APP_ID,
      appSecret: e.LARK_APP_SECRET,
      verificationToken: e.LARK_VERIFICATION_TOKEN,
      encryptKey: e.LARK_ENCRYPT_KEY,
      domain: resolveLarkDomain(e.LARK_DOMAIN),
      eventMode: e.LARK_EVENT_MODE,
      botOpenId: e.LARK_BOT_OPEN_ID,
    },
    offline,
    llm: e.LLM_BASE_URL ? { baseUrl: e.LLM_BASE_URL, apiKey: e.LLM_API_KEY, model: e.LLM_MODEL!, rewriteTimeoutMs: e.LLM_REWRITE_TIMEOUT_MS } : undefined,
    cardStreaming: e.LARK_CARD_STREAMING,
    embedding: e.EMBEDDING_BASE_URL
      ? { baseUrl: e.EMBEDDING_BASE_URL, apiKey: e.EMBEDDING_API_KEY ?? e.LLM_API_KEY, model: e.EMBEDDING_MODEL! }
      : undefined,
    tz: e.TZ_NAME,
    digestTime: e.DIGEST_TIME,
    reminderTime: e.REMINDER_TIME,
    quietHours: qs && qe ? { start: qs, end: qe } : undefined,
    adminOpenIds: e.ADMIN_OPEN_IDS,
    consoleEnabled: e.CONSOLE_ENABLED ?? offline,
    dashboardSecret: e.DASHBOARD_SECRET,
    publicBaseUrl: e.PUBLIC_BASE_URL?.replace(/\/+$/, ''),
    logLevel: e.LOG_LEVEL,
    sendRatePerApp: e.SEND_RATE_PER_APP,
    sendRatePerReceiver: e.SEND_RATE_PER_RECEIVER,
    http: {
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnectionsPerAddress: e.HTTP_MAX_CONNECTIONS_PER_IP,
      exemptAddresses: e.HTTP_CONNECTION_LIMIT_EXEMPT,
      maxConnections: e.HTTP_MAX_CONNECTIONS,
    },
    metricsToken: e.METRICS_TOKEN,
    backup: { dir: resolve(e.BACKUP_DIR ?? resolve(dataDir, 'backups')), schedule: e.BACKUP_SCHEDULE.trim(), keep: e.BACKUP_KEEP },
  };
}

export function resolveLarkDomain(v: string): string {
  if (v === 'feishu') return 'https://open.feishu.cn';
  if (v === 'lark') return 'https://open.larksuite.com';
  return v.replace(/\/+$/, '');
}

/** Every secret value in the config, for redaction checks. */
export function secretValues(c: Config): string[] {
  return [c.lark.appSecret, c.lark.verificationToken, c.lark.encryptKey, c.llm?.apiKey, c.embedding?.apiKey, c.dashboardSecret, c.metricsToken]
    .filter((v): v is string => typeof v === 'string' && v.length > 0);
}
