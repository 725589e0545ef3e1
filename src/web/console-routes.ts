import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { LarkEnvelope } from '../bot/envelope.js';
import { localChatId, localTextMessage } from '../bot/local-event.js';
import { renderMessageText } from '../bot/card-text.js';
import { LOCAL_PREFIX } from '../bot/outbox.js';
import type { Runtime } from '../runtime.js';
import type { OutboxRow } from '../store/outbox-repo.js';
import { today } from '../workflow/context.js';
import { canReceiveDigest } from '../workflow/digest/data.js';
import { loadPrincipal } from '../workflow/permissions.js';
import { computeReminders } from '../workflow/reminders/planner.js';
import { reminderCard } from '../workflow/reminders/card.js';
import { renderCardHtml, renderMessageHtml } from './card-html.js';
import { contextOf } from './dashboard-data.js';
import { dashboardPath, signDashboardToken } from './dashboard-token.js';
import type { DemoHost } from './demo.js';
import type { ConsoleGate } from './console-auth-guard.js';
import { consolePage } from './pages.js';

/**
 * The trial console (/console): pick a person, type as them, press the
 * cards' buttons. Messages go through `intake.receive` exactly like Lark's
 * (a p2p message from a `local:` chat, whose replies never leave the outbox);
 * button presses are card.action.trigger events with a `local_` event id,
 * handled by the same card-action handler as Lark's callbacks.
 *
 * Registered only when CONSOLE_ENABLED (default: offline only).
 */

export const GUEST_OPEN_ID = 'ou_local_console';
/** How far back a console page may ask for messages. */
const MAX_BACKLOG = 2000;
const CONSOLE_LINK_TTL_MS = 24 * 3600_000;

export interface ConsoleDeps {
  rt: Runtime;
  demo: DemoHost;
  /** Signs links to the demo database's dashboard (per-process key). */
  demoKey: Buffer;
  /** The sign-in lock once real data exists (console-auth-guard.ts); its hook runs before every route here. */
  gate: ConsoleGate;
}

interface Target {
  rt: Runtime;
  demo: boolean;
}

export interface ConsolePerson {
  openId: string;
  name: string;
  role: string | null;
  scope: string;
  villages: string[];
  leader: boolean;
}

const ROLE_ORDER: Record<string, number> = { 干部: 0, 工作组: 1, 领导: 2, 管理员: 3 };

export function sessionOf(openId: string): string {
  return `console:${openId}`;
}

export function registerConsoleRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { rt, demo, gate } = deps;

  /**
   * The real database once a roster is imported (to a signed-in browser only:
   * checked here again, for a roster imported after the hook let the request
   * in); the demo database before. Undefined after answering 401.
   */
  async function target(req: FastifyRequest, reply: FastifyReply): Promise<Target | undefined> {
    if (gate.locked()) {
      if (gate.signedIn(req)) return { rt, demo: false };
      gate.refuse(req, reply);
      return undefined;
    }
    return { rt: await demo.get(), demo: true };
  }

  function people(t: Target): ConsolePerson[] {
    const roster = t.rt.workflow.repos.roster;
    const villages = new Map(roster.villages().map((v) => [v.id, v]));
    const regions = new Map([...roster.counties(), ...roster.townships()].map((r) => [r.id, r.name]));
    // Only people with a Lark identity can be played: the console speaks as an open_id (people listed by phone or email get theirs when bound).
    const bound = roster.people().flatMap((p) => (p.openId ? [{ ...p, openId: p.openId }] : []));
    const list = bound.map((p) => {
      const principal = loadPrincipal(roster, t.rt.actorResolver(p.openId));
      return {
        openId: p.openId,
        name: p.name,
        role: p.role,
        scope: p.scopeId !== null ? (regions.get(p.scopeId) ?? '') : '',
        villages: roster.assignedVillageIds(p.id).map((id) => villages.get(id)?.name ?? '').filter(Boolean),
        leader: canReceiveDigest(principal),
      };
    });
    list.sort((a, b) => (ROLE_ORDER[a.role] ?? 9) - (ROLE_ORDER[b.role] ?? 9) || a.scope.localeCompare(b.scope, 'zh') || a.name.localeCompare(b.name, 'zh'));
    return [...list, { openId: GUEST_OPEN_ID, name: '访客（不在花名册）', role: null, scope: '', villages: [], leader: false }];
  }

  function knownPerson(t: Target, openId: string): boolean {
    return openId === GUEST_OPEN_ID || t.rt.workflow.repos.roster.personByOpenId(openId) !== undefined;
  }

  /** Outbox rows for this person's console session since `after`, as the page shows them. */
  function messagesFor(t: Target, openId: string, after: number): { messages: ConsoleMessage[]; last: number } {
    const max = t.rt.repos.outbox.maxId();
    const from = Math.max(after, max - MAX_BACKLOG, 0);
    const chat = localChatId(sessionOf(openId));
    // Card handlers answer by open_id; a local-only sink (see docs/web.md) would store those as `local:open_id:<id>`.
    const direct = `${LOCAL_PREFIX}open_id:${openId}`;
    const out: ConsoleMessage[] = [];
    let last = from;
    for (const row of t.rt.repos.outbox.listSince(from)) {
      last = row.id;
      if (row.receive_id === chat || row.receive_id === direct || (row.receive_id_type === 'open_id' && row.receive_id === openId)) out.push(toMessage(row));
    }
    return { messages: out, last: Math.max(last, after) };
  }

  function refuse(reply: FastifyReply, code: number, error: string, message: string) {
    return reply.code(code).send({ error, message });
  }

  gate.registerLogin(app);

  app.get('/console', async (_req, reply) => {
    reply.type('text/html; charset=utf-8');
    return consolePage({ online: !rt.config.offline });
  });

  app.get('/console/api/state', async (req, reply) => {
    const t = await target(req, reply);
    if (!t) return reply;
    return {
      demo: t.demo,
      online: !rt.config.offline,
      people: people(t),
      last: t.rt.repos.outbox.maxId(),
      dashboard: t.demo || !!rt.config.dashboardSecret,
    };
  });

  const afterSchema = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0);
  const openIdSchema = z.string().min(1).max(128);

  app.get('/console/api/messages', async (req, reply) => {
    const q = z.object({ openId: openIdSchema, after: afterSchema }).safeParse(req.query);
    if (!q.success) return refuse(reply, 400, 'bad_request', '参数不正确。');
    const t = await target(req, reply);
    if (!t) return reply;
    if (!knownPerson(t, q.data.openId)) return refuse(reply, 404, 'unknown_person', '花名册中没有这个人。');
    return messagesFor(t, q.data.openId, q.data.after);
  });

  const sendSchema = z.object({ openId: openIdSchema, text: z.string().trim().min(1).max(2000), after: afterSchema });

  app.post('/console/api/send', async (req, reply) => {
    const b = sendSchema.safeParse(req.body);
    if (!b.success) return refuse(reply, 400, 'bad_request', '请输入内容（最多 2000 字）。');
    const t = await target(req, reply);
    if (!t) return reply;
    if (!knownPerson(t, b.data.openId)) return refuse(reply, 404, 'unknown_person', '花名册中没有这个人。');
    const env = localTextMessage({ openId: b.data.openId, session: sessionOf(b.data.openId), text: b.data.text, token: t.rt.config.lark.verificationToken });
    await t.rt.intake.receive(env);
    await t.rt.intake.idle();
    return messagesFor(t, b.data.openId, b.data.after);
  });

  const jsonObject = z.record(z.string(), z.unknown()).refine((v) => JSON.stringify(v).length <= 4096, '内容过长');
  const pressSchema = z.object({
    openId: openIdSchema,
    value: jsonObject.refine((v) => typeof v.action === 'string', '缺少 action'),
    formValue: jsonObject.optional(),
    after: afterSchema,
  });

  app.post('/console/api/press', async (req, reply) => {
    const b = pressSchema.safeParse(req.body);
    if (!b.success) return refuse(reply, 400, 'bad_request', '无法识别的操作。');
    const t = await target(req, reply);
    if (!t) return reply;
    if (!knownPerson(t, b.data.openId)) return refuse(reply, 404, 'unknown_person', '花名册中没有这个人。');
    const env = localCardAction({ openId: b.data.openId, session: sessionOf(b.data.openId), value: b.data.value, formValue: b.data.formValue, token: t.rt.config.lark.verificationToken });
    const r = await t.rt.intake.receive(env);
    await t.rt.intake.idle();
    const body = (r.status === 'answered' ? r.body : {}) as { toast?: { type?: string; content?: string }; card?: { data?: unknown } };
    return {
      toast: body.toast && typeof body.toast.content === 'string' ? { type: String(body.toast.type ?? 'info'), content: body.toast.content } : undefined,
      card: body.card?.data ? renderCardHtml(body.card.data) : undefined,
      ...messagesFor(t, b.data.openId, b.data.after),
    };
  });

  /** 今日提醒（预演）: the reminder card this person would get in today's slot, with working buttons. */
  app.get('/console/api/reminders', async (req, reply) => {
    const q = z.object({ openId: openIdSchema }).safeParse(req.query);
    if (!q.success) return refuse(reply, 400, 'bad_request', '参数不正确。');
    const t = await target(req, reply);
    if (!t) return reply;
    if (!knownPerson(t, q.data.openId)) return refuse(reply, 404, 'unknown_person', '花名册中没有这个人。');
    const ctx = contextOf(t.rt);
    const day = today(ctx);
    const planned = computeReminders(ctx, t.rt.reminders.schedule, day).filter((m) => m.to.openId === q.data.openId);
    return {
      day,
      time: t.rt.config.reminderTime,
      messages: planned.map((m, i) => {
        const c = reminderCard(m, day);
        return { id: `reminder-${i}`, kind: 'interactive', html: renderCardHtml(c), text: renderMessageText('interactive', JSON.stringify(c)) };
      }),
    };
  });

  /** A dashboard link for a leader persona (the demo's own key, or DASHBOARD_SECRET for the real database). */
  app.get('/console/api/dashboard-link', async (req, reply) => {
    const q = z.object({ openId: openIdSchema }).safeParse(req.query);
    if (!q.success) return refuse(reply, 400, 'bad_request', '参数不正确。');
    const t = await target(req, reply);
    if (!t) return reply;
    const roster = t.rt.workflow.repos.roster;
    if (!roster.personByOpenId(q.data.openId)) return refuse(reply, 404, 'unknown_person', '花名册中没有这个人。');
    const p = loadPrincipal(roster, t.rt.actorResolver(q.data.openId));
    if (!canReceiveDigest(p)) return refuse(reply, 403, 'not_leader', '看板仅供领导（县级或乡镇级）和换届办管理员使用。');
    const key = t.demo ? deps.demoKey : rt.config.dashboardSecret;
    if (!key) return refuse(reply, 409, 'not_configured', '未设置 DASHBOARD_SECRET，看板链接不可用。');
    const token = signDashboardToken({ openId: p.openId, scopeId: p.scopeId, expiresAt: t.rt.clock.now() + CONSOLE_LINK_TTL_MS, demo: t.demo }, key);
    return { url: dashboardPath('', token) };
  });
}

export interface ConsoleMessage {
  id: number | string;
  kind: string;
  /** Safe HTML (every card or text value escaped by card-html.ts). */
  html: string;
  /** The same message as plain text (card-text.ts). */
  text: string;
}

function toMessage(row: OutboxRow): ConsoleMessage {
  return { id: row.id, kind: row.msg_type, html: renderMessageHtml(row.msg_type, row.content), text: renderMessageText(row.msg_type, row.content) };
}

/**
 * A button press (or form submit) in the console, in the shape Lark sends
 * card.action.trigger; the `local_` event id and the local chat mark it as
 * the console's.
 */
export function localCardAction(opts: { openId: string; session: string; value: Record<string, unknown>; formValue?: Record<string, unknown>; token?: string }): LarkEnvelope {
  const id = randomUUID().replace(/-/g, '');
  const payload = {
    schema: '2.0',
    header: { event_id: `local_${id}`, event_type: 'card.action.trigger', token: opts.token, create_time: String(Date.now() * 1000) },
    event: {
      operator: { open_id: opts.openId },
      token: `local-card-${id}`,
      action: { value: opts.value, tag: 'button', ...(opts.formValue ? { form_value: opts.formValue } : {}) },
      host: 'im_message',
      context: { open_message_id: `local_om_${id}`, open_chat_id: localChatId(opts.session) },
    },
  };
  return { eventId: payload.header.event_id, eventType: 'card.action.trigger', token: opts.token, payload };
}
