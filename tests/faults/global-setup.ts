import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { findSecrets, formatSummary, RUN_SECRETS, type AttackResult } from './lib.js';

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
    const files = readdirSync(dir).sort();
    for (const f of files.filter((x) => x.endsWith('.json'))) rows.push(...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as AttackResult[]));
    // Secrets in anything any service printed during the whole run.
    const logs = files.filter((x) => x.endsWith('.log'));
    let bytes = 0;
    const found: string[] = [];
    for (const f of logs) {
      const text = readFileSync(join(dir, f), 'utf8');
      bytes += text.length;
      for (const x of findSecrets(RUN_SECRETS, { [f]: text })) found.push(`${x.secret} (${x.form}) in ${x.source}: …${x.excerpt}…`);
    }
    rows.push({
      attack: 'secrets in every service log of the run',
      tries: logs.length,
      failures: found.length,
      notes: `${logs.length} service processes, ${(bytes / 1024).toFixed(0)} KiB of output` + (found.length ? `; ${found.slice(0, 3).join(' | ')}` : ''),
    });
    rmSync(dir, { recursive: true, force: true });
    process.stdout.write('\n' + formatSummary(rows, Date.now() - started) + '\n');
    if (found.length) {
      // A teardown error does not change vitest's exit code; the run must still fail.
      process.stderr.write(`\nFAIL: a secret appeared in a service's output:\n${found.join('\n')}\n`);
      process.exitCode = 1;
    }
  };
}
