/**
 * The suite's PostgreSQL round (issue 7): creates a fresh database, runs the
 * whole vitest suite with HJ_TEST_STORE=postgres against it (each test's
 * temp database becomes a schema there), then drops it.
 *
 *   HJ_PG_ADMIN_URL  where to create it (default postgres://postgres@127.0.0.1:5432/postgres)
 *
 * When PostgreSQL cannot be reached the round is skipped with a message, except
 * under CI=true, where that is a failure.
 */
import { spawnSync } from 'node:child_process';
import pg from 'pg';

const adminUrl = process.env.HJ_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `huanjie_test_${process.pid}_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
try {
  await admin.connect();
} catch (e) {
  const msg = `PostgreSQL 不可达（${adminUrl}: ${(e as Error).message}），未运行 PostgreSQL 轮次。启动方法见 docs/postgres.md。`;
  if (process.env.CI) {
    console.error(msg);
    process.exit(1);
  }
  console.warn(`\n⚠ ${msg}\n`);
  process.exit(0);
}
// C.UTF-8: text sorts by code point, as SQLite compares it.
await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
console.log(`PostgreSQL round: fresh database ${name}`);
let status = 1;
try {
  const r = spawnSync('npx', ['vitest', 'run', ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, HJ_TEST_STORE: 'postgres', HJ_TEST_PG_URL: url.toString() },
  });
  status = r.status ?? 1;
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
process.exit(status);
