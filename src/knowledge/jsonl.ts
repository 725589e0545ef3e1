import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { UserError } from '../errors.js';

/**
 * Reads a JSON-lines file and validates every line before any is used, so a bad
 * file is refused whole, with the line number. `label` names the file for the
 * person (批量提问文件, 评测文件); `problem` says what a bad line lacks.
 */
export function readJsonLines<S extends z.ZodType>(
  path: string,
  label: string,
  schema: S,
  problem: (issues: z.core.$ZodIssue[]) => string,
  /** How a missing file is named, when it differs from `label`. */
  missingLabel = label,
): z.infer<S>[] {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`找不到${missingLabel}「${path}」。`, 'not_found');
  }
  const items: z.infer<S>[] = [];
  raw.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new UserError(`${label}第 ${i + 1} 行不是合法的 JSON。`);
    }
    const r = schema.safeParse(json);
    if (!r.success) throw new UserError(`${label}第 ${i + 1} 行${problem(r.error.issues)}`);
    items.push(r.data);
  });
  return items;
}
