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

export function asAppError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  return new AppError('internal', '系统内部错误，请稍后再试；如持续出现请联系换届办。', {
    cause: e,
    detail: e instanceof Error ? e.message : String(e),
  });
}
