import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

/**
 * The fault suite (issue 8): attacks on the real service process.
 * Separate from `npm test` (whose default include is *.test.ts / *.spec.ts):
 *   npx vitest run --config tests/faults/vitest.config.ts
 */
export default defineConfig({
  root: fileURLToPath(new URL('../../', import.meta.url)),
  test: {
    include: ['tests/faults/**/*.fault.ts'],
    globalSetup: ['tests/faults/global-setup.ts'],
    // Each attack owns a child process and a fake Lark; run them one after another.
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
