import { isZodError, validationMessage } from './validation.js';

/**
 * Typed errors. Each carries a stable code and, where a person will read it, a
 * Chinese message that says what went wrong and what to do.
 */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'validation'
  | 'lark_api'
  | 'lark_rate_limited'
  | 'storage'
  | 'internal';

export class AppError extends Error {
  constructor(
    public readonly code: ErrorCode,
    /** What the user sees (Chinese). */
    public readonly userMessage: string,
    options?: { cause?: unknown; detail?: string },
  ) {
    super(options?.detail ?? userMessage, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'AppError';
  }
}

/** A refusal the user caused: bad input, no permission. Nothing was changed. */
export class UserError extends AppError {
  constructor(userMessage: string, code: ErrorCode = 'validation') {
    super(code, userMessage);
    this.name = 'UserError';
  }
}

/** A Lark API answer with a business error code (HTTP 400 with code ≠ 0, or a code in a 200). */
export class LarkApiError extends AppError {
  constructor(
    public readonly larkCode: number,
    public readonly httpStatus: number | undefined,
    msg: string,
    public readonly retryAfterMs?: number,
  ) {
    super(larkCode === 99991400 || larkCode === 230020 ? 'lark_rate_limited' : 'lark_api', '飞书接口返回错误', {
      detail: `lark ${httpStatus ?? '-'} code=${larkCode} ${msg}`,
    });
    this.name = 'LarkApiError';
  }
}

/** Told to whoever could not be served because the disk is full: nothing of this request was kept. */
export const STORAGE_FULL_MESSAGE = '存储空间已满，本次操作未能保存，请稍后再试；已登记的内容不受影响。如持续出现请联系换届办。';
/** Told when the request was kept (acknowledged) but cannot be processed until space returns. */
export const STORAGE_FULL_QUEUED_MESSAGE = '存储空间已满：已收到您的操作，空间恢复后会自动处理并通知您，无需重复提交。';

/**
 * The disk (or the database's size limit) is full. Not the user's fault and not
 * a bug: the work is kept or refused whole, and retried once space returns.
 */
export class StorageFullError extends AppError {
  constructor(options?: { cause?: unknown; userMessage?: string }) {
    super('storage', options?.userMessage ?? STORAGE_FULL_MESSAGE, {
      cause: options?.cause,
      detail: `storage full: ${options?.cause instanceof Error ? options.cause.message : String(options?.cause ?? 'no space left')}`,
    });
    this.name = 'StorageFullError';
  }
}

/**
 * The ways of saying "no space": SQLite's SQLITE_FULL (also max_page_count), a failed write or shm grow;
 * the OS's ENOSPC, EDQUOT; PostgreSQL's SQLSTATE 53100 disk_full.
 */
const STORAGE_FULL_CODES = new Set(['SQLITE_FULL', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_SHMSIZE', 'ENOSPC', 'EDQUOT', '53100']);

export function isStorageFullError(e: unknown): boolean {
  for (let x = e, depth = 0; x && typeof x === 'object' && depth < 5; x = (x as { cause?: unknown }).cause, depth++) {
    if (x instanceof StorageFullError) return true;
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string' && STORAGE_FULL_CODES.has(code)) return true;
  }
  return false;
}

/**
 * The AppError for anything a handler caught, to answer the user with.
 * Except a full disk: that is rethrown as StorageFullError, because the event
 * must not be answered and marked done while its work was not saved; the intake
 * keeps it and runs it again once space returns.
 */
export function asAppError(e: unknown): AppError {
  if (isStorageFullError(e)) throw e instanceof StorageFullError ? e : new StorageFullError({ cause: e });
  if (e instanceof AppError) return e;
  // A schema's .parse() that threw: the input was wrong, not our code; said in Chinese, naming what to send.
  if (isZodError(e)) return new UserError(validationMessage(e));
  return new AppError('internal', '系统内部错误，请稍后再试；如持续出现请联系换届办。', {
    cause: e,
    detail: e instanceof Error ? e.message : String(e),
  });
}
