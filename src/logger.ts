import { pino, type Logger, type DestinationStream } from 'pino';
import type { Config } from './config.js';
import { secretValues } from './config.js';

export type { Logger };

/** Paths redacted in every log line: secrets must never reach a log (SPEC, issue 2 §2). */
const REDACT = [
  'appSecret',
  'app_secret',
  'encryptKey',
  'encrypt_key',
  'verificationToken',
  'token',
  'apiKey',
  'api_key',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.appSecret',
  '*.encryptKey',
  '*.verificationToken',
  '*.apiKey',
  '*.token',
];

export function createLogger(config: Pick<Config, 'logLevel'> & Partial<Config>, dest?: DestinationStream): Logger {
  const secrets = config.lark ? secretValues(config as Config) : [];
  return pino(
    {
      level: config.logLevel,
      base: { service: 'huanjie-bot' },
      redact: { paths: REDACT, censor: '[redacted]' },
      ...(secrets.length
        ? { hooks: {
            // Belt and braces: a secret that slips into a message string is masked too.
            logMethod(args, method) {
              const masked = args.map((a) => (typeof a === 'string' ? maskSecrets(a, secrets) : a));
              return method.apply(this, masked as Parameters<typeof method>);
            },
          } }
        : {}),
    },
    dest,
  );
}

export function maskSecrets(s: string, secrets: string[]): string {
  let out = s;
  for (const v of secrets) if (v.length >= 4) out = out.split(v).join('[redacted]');
  return out;
}
