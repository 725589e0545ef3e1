import type * as lark from '@larksuiteoapi/node-sdk';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { button, buttonRow, card, escapeMd, hr, md, type Card } from '../../bot/cards.js';
import type { EventHandler } from '../../bot/dispatcher.js';
import { AppError, asAppError, UserError } from '../../errors.js';
import { isPreview, outcomeLines, readImportBytes, runImport, type ImportOutcome } from '../../workflow/import/index.js';
import { MAX_FILE_BYTES } from '../../workflow/import/read.js';
import { deny, loadPrincipal } from '../../workflow/permissions.js';
import type { ActorResolver } from '../actor.js';
import type { CardActionHandler } from '../card-action.js';
import { readMessageEvent } from '../message-content.js';
import { replyToMessage, sendTo } from '../reply.js';
import type { WorkflowDeps } from './services.js';

/**
 * A workbook sent to the bot in chat (admins only): downloaded with
 * im/v1/messages/:message_id/resources/:file_key, validated, applied only when
 * wholly valid, answered with a card of counts or of errors by sheet, row and
 * column. Keyed by the message id: a re-run after a crash answers with the
 * recorded outcome instead of importing again.
 */
export function fileImportHandler(deps: WorkflowDeps, opts: { client: () => lark.Client | undefined; resolveActor: ActorResolver }): EventHandler {
  return async (env, ctx) => {
    const msg = readMessageEvent(env.payload.event);
    if (!msg) return;
    const reply = replyToMessage(ctx.outbox, { messageId: msg.messageId, chatId: msg.chatId });
    try {
      let file: { file_key?: unknown; file_name?: unknown; file_size?: unknown };
      try {
        file = JSON.parse(msg.content) as typeof file;
      } catch {
        file = {};
      }
      if (!file || typeof file !== 'object') file = {};
      const fileKey = typeof file.file_key === 'string' ? file.file_key : '';
      const fileName = typeof file.file_name === 'string' ? file.file_name.slice(0, 200) : '';
      const p = loadPrincipal(deps.repos.roster, opts.resolveActor(msg.senderOpenId));
      if (!p.isAdmin) deny(deps.repos.audit, p, 'import', fileName ? `file:${fileName}` : null, '只有换届办管理员可以导入花名册和计划。如需调整，请把文件发给换届办。', ctx.clock.now());
      const done = deps.repos.imports.bySource(msg.messageId);
      if (done) {
        reply.card(outcomeCard(JSON.parse(done.result) as ImportOutcome));
        return;
      }
      const source: ImportSource = { messageId: msg.messageId, chatId: msg.chatId, fileKey, fileName };
      try {
        if (!fileKey || !fileName) throw new UserError('无法读取该文件消息。');
        if (!/\.(xlsx|xls|csv)$/i.test(fileName)) throw new UserError(`只能导入 .xlsx、.xls 工作簿或以工作表命名的 .csv 文件（收到「${fileName}」）。发送「帮助」查看说明。`);
        // When the message states the size, a file that is too large is refused before a byte is downloaded.
        const stated = Number(file.file_size);
        if (Number.isFinite(stated) && stated > MAX_FILE_BYTES) throw tooLarge(stated);
        const client = opts.client();
        if (!client) throw new UserError('文件导入需要在线的机器人（已配置飞书应用）。离线时请在服务器上使用命令：npm run cli -- import 文件.xlsx');
        reply.card(outcomeCard(await importFrom(deps, client, source, p.openId, ctx.clock.now()), source));
      } catch (e) {
        // A file refused before validation is still on the record (全程记实): who sent what, and why it was not imported.
        if (e instanceof UserError) {
          deps.repos.audit.record({ at: ctx.clock.now(), actor: p.openId, action: 'import.refused', target: fileName ? `file:${fileName}` : null, detail: e.userMessage });
        }
        throw e;
      }
    } catch (e) {
      const err = asAppError(e);
      if (!(e instanceof AppError) || err.code === 'internal') ctx.logger.error({ err: e }, 'file import failed');
      reply.text(err.userMessage);
    }
  };
}

/** The file message an import came from: what a confirmation downloads again. */
interface ImportSource {
  messageId: string;
  chatId: string;
  fileKey: string;
  fileName: string;
}

/** Downloads, reads and imports the file of a message (a preview when it drops people or renames villages and `confirm` is not its token). */
async function importFrom(deps: WorkflowDeps, client: lark.Client, src: ImportSource, actor: string, now: number, confirm?: string): Promise<ImportOutcome> {
  const bytes = await download(client, src.messageId, src.fileKey);
  const read = await readImportBytes(src.fileName, bytes);
  // No --county in chat: a workbook without a 县 column names its county in its title line.
  return runImport(deps.repos, read, { actor, sourceId: src.messageId, fileName: src.fileName, now, tz: deps.tz, confirm });
}

/** The card button that confirms a preview (import_confirm). */
export const IMPORT_CONFIRM_ACTION = 'import_confirm';

const confirmSchema = z.object({
  m: z.string().min(1).max(200),
  c: z.string().min(1).max(200),
  k: z.string().min(1).max(500),
  n: z.string().min(1).max(200),
  t: z.string().regex(/^[0-9a-f]{16}$/),
});

/**
 * 确认导入 on a preview card (admins only): downloads the same file message
 * again and imports it with the confirmed token; the result goes to the chat
 * the file was sent in. Pressed twice, or after the import was applied, it
 * answers with the recorded outcome (keyed by the message id).
 */
export function importConfirmHandler(deps: WorkflowDeps, opts: { client: () => lark.Client | undefined }): CardActionHandler {
  return async (input) => {
    const now = input.ctx.clock.now();
    const parsed = confirmSchema.safeParse(input.value);
    if (!parsed.success) return { toast: { type: 'error', content: '无法识别的确认操作，请重新发送文件。' } };
    const v = parsed.data;
    const src: ImportSource = { messageId: v.m, chatId: v.c, fileKey: v.k, fileName: v.n };
    const p = loadPrincipal(deps.repos.roster, input.actor);
    if (!p.isAdmin) {
      const message = '只有换届办管理员可以确认导入；如需导入，请把文件交给换届办管理员。';
      deps.repos.audit.record({ at: now, actor: p.openId, action: 'denied:import_confirm', target: `file:${src.fileName}`, detail: message });
      return { toast: { type: 'error', content: message } };
    }
    const reply = sendTo(input.ctx.outbox, { type: 'chat_id', id: src.chatId }, `import-confirm:${input.env.eventId}`);
    try {
      const done = deps.repos.imports.bySource(src.messageId);
      if (done) {
        reply.card(outcomeCard(JSON.parse(done.result) as ImportOutcome));
        return { toast: { type: 'info', content: '该文件已导入。' } };
      }
      const client = opts.client();
      if (!client) throw new UserError('确认导入需要在线的机器人（已配置飞书应用）。离线时请在服务器上使用命令：npm run cli -- import 文件.xlsx --confirm');
      const outcome = await importFrom(deps, client, src, p.openId, now, v.t);
      reply.card(outcomeCard(outcome, src));
      if (isPreview(outcome)) return { toast: { type: 'warning', content: '数据已有变化，请查看新的确认清单后再确认。' } };
      return { toast: { type: outcome.ok ? 'success' : 'error', content: outcome.ok ? '已导入。' : '导入未通过，请查看问题清单。' } };
    } catch (e) {
      const err = asAppError(e);
      if (!(e instanceof AppError) || err.code === 'internal') input.ctx.logger.error({ err: e }, 'import confirm failed');
      reply.text(err.userMessage);
      return { toast: { type: 'error', content: err.userMessage } };
    }
  };
}

const tooLarge = (bytes: number) =>
  new UserError(`文件过大（${(bytes / 1048576).toFixed(1)} MB），导入文件上限 ${MAX_FILE_BYTES / 1048576} MB。花名册工作簿通常不到 1 MB，请删除无关的工作表、图片后另存再发送。`);

/** The whole download (headers and body) must finish within this; a stalled one is abandoned. */
export const DOWNLOAD_TIMEOUT_MS = 60_000;

async function download(client: lark.Client, messageId: string, fileKey: string): Promise<Buffer> {
  let stream: Readable;
  let declared = NaN;
  const failed = (e: unknown) =>
    new AppError('lark_api', '从飞书下载文件失败，请稍后重新发送；如持续失败请用命令行导入。', { cause: e, detail: `download ${fileKey}: ${(e as Error).message}` });
  const deadline = Date.now() + DOWNLOAD_TIMEOUT_MS;
  try {
    const res = await client.im.messageResource.get({ path: { message_id: messageId, file_key: fileKey }, params: { type: 'file' } });
    stream = res.getReadableStream();
    declared = Number((res.headers as Record<string, unknown> | undefined)?.['content-length']);
  } catch (e) {
    throw failed(e);
  }
  // Refused by the declared length before the body is read, so a 50 MB file never sits in memory.
  if (Number.isFinite(declared) && declared > MAX_FILE_BYTES) {
    stream.destroy();
    throw tooLarge(declared);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => stream.destroy(new Error('download timed out')), Math.max(1, deadline - Date.now()));
  try {
    for await (const chunk of stream) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      size += b.length;
      if (size > MAX_FILE_BYTES) {
        stream.destroy();
        throw tooLarge(size);
      }
      chunks.push(b);
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw failed(e);
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks);
}

/** The same lines as the CLI prints (grouped problems, at most 30 and a count; warnings; the unbound count; notes). */
export function outcomeCard(o: ImportOutcome, src?: ImportSource): Card {
  const l = outcomeLines(o);
  const notes = l.notes.length ? [hr(), md(l.notes.map(escapeMd).join('\n'))] : [];
  if (isPreview(o)) {
    const c = o.confirm.changes;
    const confirm = src
      ? [buttonRow([button('确认导入', { action: IMPORT_CONFIRM_ACTION, m: src.messageId, c: src.chatId, k: src.fileKey, n: src.fileName, t: o.confirm.token }, 'danger')])]
      : [md('请在服务器上加 --confirm 重新运行导入命令。')];
    return card({
      title: `导入前请确认：移出 ${c.removedPeople.length} 人，改名 ${c.renames.length} 个村社区`,
      subtitle: o.fileName,
      template: 'orange',
      elements: [
        md('**尚未导入任何数据。** 本文件会带来下列变化，核对无误后点「确认导入」；如有不对，请修改文件后重新发送（不确认则不导入）：'),
        md(l.counts.map(escapeMd).join('\n')),
        ...(l.warnings.length ? [hr(), md(l.warnings.map(escapeMd).join('\n'))] : []),
        ...notes,
        hr(),
        ...confirm,
      ],
    });
  }
  if (o.ok) {
    const after = [...l.warnings, ...(l.unbound ? [l.unbound] : [])];
    return card({
      title: after.length && l.warnings.length ? '导入完成（有提醒）' : '导入完成',
      subtitle: o.fileName,
      template: l.warnings.length ? 'orange' : 'green',
      elements: [md(l.counts.join('\n')), ...(after.length ? [hr(), md(after.map(escapeMd).join('\n'))] : []), ...notes, hr(), md('发送「进度」或「我的」查看结果。')],
    });
  }
  return card({
    title: `导入未通过：${o.issues.length} 处问题`,
    subtitle: o.fileName,
    template: 'red',
    elements: [md('**整个文件都没有导入。** 请按下列位置修改后重新发送：'), md(l.problems.map(escapeMd).join('\n')), ...notes],
  });
}
