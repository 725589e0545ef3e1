import type * as Lark from '@larksuiteoapi/node-sdk';
import { lark } from './lark-sdk.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { parseEnvelope } from './envelope.js';
import type { EventIntake } from './intake.js';
import { sdkLogger } from './lark-client.js';

/**
 * LARK_EVENT_MODE=ws: the SDK's long-connection client receives events and card
 * callbacks; each merged frame is the same schema 2.0 envelope the webhook gets
 * (already authenticated by the connection, and plaintext), so it goes to the
 * same intake. The SDK's EventDispatcher would flatten the envelope, so the WS
 * client is given this adapter, which has the one method it calls: invoke().
 */
export class WsIntakeAdapter {
  constructor(
    private readonly intake: EventIntake,
    private readonly logger: Logger,
  ) {}

  async invoke(data: unknown): Promise<unknown> {
    const parsed = parseEnvelope(data);
    if (!parsed.ok) {
      this.logger.warn({ reason: parsed.reason }, 'ws: frame is not an event envelope; ignored');
      return undefined;
    }
    const r = await this.intake.receive(parsed.envelope);
    // The SDK sends a truthy return value back to Lark as the callback's answer.
    return r.status === 'answered' ? r.body : undefined;
  }
}

export interface WsReceiver {
  close(): void;
}

export function startWsReceiver(config: Config, intake: EventIntake, logger: Logger): WsReceiver {
  const { appId, appSecret, domain } = config.lark;
  if (!appId || !appSecret) throw new Error('LARK_EVENT_MODE=ws needs LARK_APP_ID and LARK_APP_SECRET');
  const log = logger.child({ component: 'ws' });
  const client = new lark.WSClient({
    appId,
    appSecret,
    domain,
    loggerLevel: lark.LoggerLevel.info,
    // Unlike REST calls, nobody else looks at these errors: they must be visible.
    logger: { ...sdkLogger(log), error: (...a: unknown[]) => log.error({ sdk: a.map(String).join(' ').slice(0, 500) }, 'long connection error') },
    autoReconnect: true,
    onReady: () => log.info('long connection ready'),
    onReconnecting: () => log.warn('long connection lost; reconnecting'),
    onReconnected: () => log.info('long connection restored'),
    onError: (e: Error) => log.error({ err: e.message }, 'long connection failed; no events will be received until restart'),
  });
  const adapter = new WsIntakeAdapter(intake, log);
  // Cast: WSClient only calls invoke(data, {needCheck:false}) on its dispatcher.
  void client.start({ eventDispatcher: adapter as unknown as Lark.EventDispatcher });
  log.info('long connection starting');
  return { close: () => client.close({ force: true }) };
}
