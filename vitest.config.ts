import { defineConfig } from 'vitest/config';
import { scaled } from './tests/helpers/time-scale.js';

/**
 * `npm test` (SQLite, then PostgreSQL via scripts/test-postgres.ts). The fault suite has its
 * own config (tests/faults/vitest.config.ts). vitest's 5 s default was too tight for tests
 * that render charts or spawn the CLI while the 2 cores are shared: the ceiling is 30 s,
 * times HJ_TEST_TIME_SCALE (tests/helpers/time-scale.ts).
 */
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'tests/faults/**'],
    testTimeout: scaled(30_000),
    hookTimeout: scaled(60_000),
  },
});
