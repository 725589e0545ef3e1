import { dialectOf, type SqlDb } from '../../src/store/sql.js';

/**
 * A trigger that makes the store refuse one kind of write with `message`: the
 * tests' way to fail a statement at an exact point, in either store.
 * `on` is the event and table as both dialects write it ("INSERT ON wf_imports",
 * "UPDATE OF status ON outbox"); `when` a condition on NEW, or none.
 */
export function addFailTrigger(db: SqlDb, name: string, on: string, message: string, when?: string): void {
  if (dialectOf(db) === 'postgres') {
    db.exec(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RAISE EXCEPTION '${message}'; END $f$;
      CREATE TRIGGER ${name} BEFORE ${on} FOR EACH ROW ${when ? `WHEN (${when})` : ''} EXECUTE FUNCTION ${name}();`);
  } else {
    db.exec(`CREATE TEMP TRIGGER ${name} BEFORE ${on} ${when ? `WHEN ${when}` : ''} BEGIN SELECT RAISE(ABORT, '${message}'); END;`);
  }
}

export function dropFailTrigger(db: SqlDb, name: string, on: string): void {
  const table = /\bON\s+(\w+)/i.exec(on)![1]!;
  if (dialectOf(db) === 'postgres') db.exec(`DROP TRIGGER ${name} ON ${table}; DROP FUNCTION ${name}();`);
  else db.exec(`DROP TRIGGER ${name}`);
}
