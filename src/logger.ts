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
  const forms = [...new Set(secrets.flatMap(secretForms))].sort((a, b) => b.length - a.length);
  return pino(
    {
      level: config.logLevel,
      base: { service: 'huanjie-bot' },
      redact: { paths: REDACT, censor: '[redacted]' },
      ...(secrets.length
        ? { hooks: {
            // Every secret, in every form, in any field of any line (the message included), whatever
            // path it took: an upstream error that quotes the key it was sent (an OpenAI-compatible
            // gateway's 401) ends up in `err` or `reason`. One pass over the finished line.
            streamWrite: (line) => maskSecrets(line, forms),
          } }
        : {}),
    },
    dest,
  );
}

/**
 * How a secret can appear in a JSON log line: as is, JSON-escaped, URL-encoded,
 * and base64 (standard and URL-safe) at each of the three byte alignments inside
 * a longer encoded value (the characters that depend on the secret alone).
 */
export function secretForms(secret: string): string[] {
  const forms = new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
  const bytes = Buffer.from(secret, 'utf8');
  for (let k = 0; k < 3; k++) {
    const b64 = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    const core = b64.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length) - 6) / 6) + 1);
    if (core.length >= 8) forms.add(core).add(core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...forms].filter((f) => f.length >= 4);
}

export function maskSecrets(s: string, secrets: string[]): string {
  let out = s;
  for (const v of secrets) if (v.length >= 4) out = out.split(v).join('[redacted]');
  return out;
}
