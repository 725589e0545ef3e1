import { z } from 'zod';

/**
 * A Lark event in the schema 2.0 envelope, after decryption. We keep the whole
 * payload (handlers read their own fields) plus the few header fields every
 * layer needs.
 */
export interface LarkEnvelope {
  eventId: string;
  eventType: string;
  /** header.token: the verification token (for card callbacks, event.token is something else). */
  token?: string;
  /** For im.message.receive_v1: message.message_id, the key Lark says to dedupe on. */
  messageId?: string;
  payload: { schema?: string; header: Record<string, unknown>; event: Record<string, unknown> };
}

const headerSchema = z
  .object({
    event_id: z.string().min(1).max(128),
    event_type: z.string().min(1).max(128),
    token: z.string().max(256).optional(),
    create_time: z.union([z.string(), z.number()]).optional(),
    app_id: z.string().optional(),
    tenant_key: z.string().optional(),
  })
  .loose();

const v2Schema = z.object({
  schema: z.literal('2.0'),
  header: headerSchema,
  event: z.record(z.string(), z.unknown()),
});

export type EnvelopeResult = { ok: true; envelope: LarkEnvelope } | { ok: false; reason: string };

export function parseEnvelope(body: unknown): EnvelopeResult {
  const r = v2Schema.safeParse(body);
  if (!r.success) {
    return { ok: false, reason: 'not a schema 2.0 event: ' + r.error.issues.map((i) => i.path.join('.') || i.message).join(', ') };
  }
  const { header, event } = r.data;
  let messageId: string | undefined;
  if (header.event_type === 'im.message.receive_v1') {
    const m = (event as { message?: { message_id?: unknown } }).message;
    if (!m || typeof m.message_id !== 'string' || m.message_id.length === 0 || m.message_id.length > 128) {
      return { ok: false, reason: 'im.message.receive_v1 without message.message_id' };
    }
    messageId = m.message_id;
  }
  return {
    ok: true,
    envelope: {
      eventId: header.event_id,
      eventType: header.event_type,
      token: header.token,
      messageId,
      payload: r.data as LarkEnvelope['payload'],
    },
  };
}
