import type * as Lark from '@larksuiteoapi/node-sdk';
import { lark } from './lark-sdk.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

/** Per-request timeout for Open Platform calls; a stalled call is retried from the outbox, never waited on forever. */
export const LARK_HTTP_TIMEOUT_MS = 10_000;

/**
 * The SDK logs whole axios errors (with request headers, i.e. the tenant token).
 * Route its output into pino as short summaries instead.
 */
export function sdkLogger(logger: Logger) {
  const summarize = (args: unknown[]) =>
    args.map((a) => {
      if (a && typeof a === 'object' && 'isAxiosError' in a) {
        const e = a as { message?: string; response?: { status?: number; data?: { code?: number; msg?: string } } };
        return { message: e.message, status: e.response?.status, code: e.response?.data?.code, msg: e.response?.data?.msg };
      }
      if (a instanceof Error) return { message: a.message };
      return typeof a === 'string' ? a.slice(0, 500) : a;
    });
  const child = logger.child({ component: 'lark-sdk' });
  return {
    // The SDK reports every non-2xx as an error; our own code decides what is an error, so these are debug.
    error: (...a: unknown[]) => child.debug({ sdk: summarize(a) }, 'lark sdk error'),
    warn: (...a: unknown[]) => child.warn({ sdk: summarize(a) }, 'lark sdk warning'),
    info: (...a: unknown[]) => child.info({ sdk: summarize(a) }, 'lark sdk'),
    debug: (...a: unknown[]) => child.debug({ sdk: summarize(a) }, 'lark sdk'),
    trace: (...a: unknown[]) => child.trace({ sdk: summarize(a) }, 'lark sdk'),
  };
}

export function createLarkClient(config: Config, logger: Logger): Lark.Client {
  if (!config.lark.appId || !config.lark.appSecret) throw new Error('createLarkClient needs LARK_APP_ID and LARK_APP_SECRET');
  // The SDK's shared axios instance has no timeout by default.
  lark.defaultHttpInstance.defaults.timeout = LARK_HTTP_TIMEOUT_MS;
  return new lark.Client({
    appId: config.lark.appId,
    appSecret: config.lark.appSecret,
    appType: lark.AppType.SelfBuild,
    domain: config.lark.domain,
    loggerLevel: lark.LoggerLevel.warn,
    logger: sdkLogger(logger),
  });
}

/** The bot's own open_id, used to tell whether a group message @-mentions the bot. */
export async function fetchBotOpenId(client: Lark.Client): Promise<string> {
  const r = (await client.request({ url: '/open-apis/bot/v3/info', method: 'GET' })) as {
    code?: number;
    msg?: string;
    bot?: { open_id?: string };
  };
  const id = r.bot?.open_id;
  if (!id) throw new Error(`bot/v3/info returned no open_id (code ${r.code ?? '?'}: ${r.msg ?? ''})`);
  return id;
}
