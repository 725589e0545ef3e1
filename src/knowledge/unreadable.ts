import { basename } from 'node:path';
import { AppError } from '../errors.js';

/** A file that could not be read; the message names it, in Chinese, for the admin. */
export class UnreadableFileError extends AppError {
  constructor(public readonly file: string, reason: string, cause?: unknown) {
    super('validation', `无法读取文件「${basename(file)}」：${reason}。索引未作改动。`, { cause, detail: `${file}: ${reason}` });
    this.name = 'UnreadableFileError';
  }
}
