import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { formatSummary, type AttackResult } from './lib.js';

declare module 'vitest' {
  export interface ProvidedContext {
    faultResultsDir: string;
  }
}

/** Collects each attack's result (written by the test files) and prints the summary table at the end. */
export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'hj-fault-results-'));
  project.provide('faultResultsDir', dir);
  const started = Date.now();
  return () => {
    const rows: AttackResult[] = [];
    for (const f of readdirSync(dir).sort()) rows.push(...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as AttackResult[]));
    rmSync(dir, { recursive: true, force: true });
    process.stdout.write('\n' + formatSummary(rows, Date.now() - started) + '\n');
  };
}
