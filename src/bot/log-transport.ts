import type { Logger } from '../logger.js';
import type { OutboxRow } from '../store/outbox-repo.js';
import type { SendOutcome, Transport } from './transport.js';

/** Offline mode (no LARK_APP_ID): a message is "sent" to the log and stays in the outbox as 'offline'. */
export class LogTransport implements Transport {
  readonly rateLimited = false;
  readonly name = 'log';
  constructor(private readonly logger: Logger) {}
  async send(row: OutboxRow): Promise<SendOutcome> {
    this.logger.info(
      { outbox: row.id, to: row.receive_id, reply_to: row.reply_to, msg_type: row.msg_type, intent: row.intent },
      'offline mode: message not sent to Lark',
    );
    return { kind: 'offline' };
  }
}
