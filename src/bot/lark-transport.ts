import type * as lark from '@larksuiteoapi/node-sdk';
import type { OutboxRow } from '../store/outbox-repo.js';
import type { SendOutcome, Transport } from './transport.js';

/** Lark answers with these codes when the app is sending too fast (frequency-control page; 230020 in IM). */
const RATE_LIMIT_CODES = new Set([99991400, 230020]);
/** Token problems the next attempt can recover from (the SDK fetches a new tenant token). */
const RETRYABLE_CODES = new Set([99991661, 99991663, 99991664, 99991668, 99991672, 99991677, 230011]);

interface LarkResponse {
  code?: number;
  msg?: string;
  data?: { message_id?: string };
}

/** Sends outbox rows through the official SDK: im/v1/messages (create) or im/v1/messages/:id/reply. */
export class LarkTransport implements Transport {
  readonly rateLimited = true;
  readonly name = 'lark';
  constructor(private readonly client: lark.Client) {}

  async send(row: OutboxRow): Promise<SendOutcome> {
    try {
      const res = (await (row.reply_to
        ? this.client.im.message.reply({
            path: { message_id: row.reply_to },
            data: { content: row.content, msg_type: row.msg_type, uuid: row.uuid },
          })
        : this.client.im.message.create({
            params: { receive_id_type: row.receive_id_type },
            data: { receive_id: row.receive_id, content: row.content, msg_type: row.msg_type, uuid: row.uuid },
          }))) as LarkResponse;
      if (res.code === 0 || res.code === undefined) return { kind: 'sent', messageId: res.data?.message_id ?? null };
      return classify(res.code, res.msg ?? '', 200, undefined);
    } catch (e) {
      return fromError(e);
    }
  }
}

function classify(code: number, msg: string, status: number | undefined, resetHeader: string | undefined): SendOutcome {
  const error = `HTTP ${status ?? '-'} code ${code}: ${msg}`.slice(0, 500);
  if (RATE_LIMIT_CODES.has(code) || status === 429) {
    return { kind: 'rate_limited', retryAfterMs: retryAfterMs(resetHeader), code, error };
  }
  if (RETRYABLE_CODES.has(code) || (status !== undefined && status >= 500)) return { kind: 'retryable', code, error };
  return { kind: 'rejected', code, error };
}

/** x-ogw-ratelimit-reset is in seconds; without it wait one second. */
export function retryAfterMs(header: string | undefined): number {
  const s = Number(header);
  return Number.isFinite(s) && s > 0 ? Math.min(s, 3600) * 1000 : 1000;
}

function fromError(e: unknown): SendOutcome {
  const err = e as {
    message?: string;
    code?: string;
    response?: { status?: number; headers?: Record<string, string | undefined>; data?: unknown };
  };
  const resp = err.response;
  if (!resp) return { kind: 'retryable', code: null, error: `network: ${err.code ?? ''} ${err.message ?? String(e)}`.slice(0, 500) };
  const data = (typeof resp.data === 'object' && resp.data ? resp.data : {}) as LarkResponse;
  const reset = resp.headers?.['x-ogw-ratelimit-reset'];
  if (typeof data.code === 'number') return classify(data.code, data.msg ?? '', resp.status, reset);
  if (resp.status === 429) return { kind: 'rate_limited', retryAfterMs: retryAfterMs(reset), code: null, error: 'HTTP 429' };
  if (resp.status !== undefined && resp.status >= 500) return { kind: 'retryable', code: null, error: `HTTP ${resp.status}` };
  return { kind: 'rejected', code: null, error: `HTTP ${resp.status ?? '?'}: ${String(err.message)}`.slice(0, 500) };
}
