import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRosterRepo } from '../../src/store/roster-repo.js';
import { openTestDb } from '../helpers/store.js';
import { tempDir } from '../helpers/test-runtime.js';

/** The roster's contact columns (issue 14): people by phone/email, binding, and what an update may change. */
describe('roster people by phone or email', () => {
  const setup = () => {
    const db = openTestDb(join(tempDir('hj-roster-contacts-'), 'huanjie.db'));
    const roster = createRosterRepo(db);
    const county = roster.ensureRegion('county', null, '沁源县').id;
    return { db, roster, county };
  };

  it('finds by phone and email, binds once, and an update never clears a bound open_id', () => {
    const { db, roster, county } = setup();
    const id = roster.insertPerson({ name: '张伟', openId: null, phone: '13912345678', email: 'zw@example.cn', role: '干部', scopeId: county });
    expect(roster.personByPhone('13912345678')?.id).toBe(id);
    expect(roster.personByEmail('zw@example.cn')?.id).toBe(id);
    expect(roster.unboundCount()).toBe(1);
    expect(roster.bind(id, 'ou_zw', 1000)).toBe(true);
    expect(roster.bind(id, 'ou_other', 2000)).toBe(false);
    // A re-import that carries no open_id (people by phone) keeps the one Lark gave.
    roster.updatePerson({ id, name: '张伟', openId: null, phone: '13912345678', email: null, role: '干部', scopeId: county });
    expect(roster.person(id)).toMatchObject({ openId: 'ou_zw', email: null });
    expect(roster.unboundCount()).toBe(0);
    db.close();
  });

  it('a changed phone is looked up again at once; an unchanged one keeps its last result', () => {
    const { db, roster, county } = setup();
    const id = roster.insertPerson({ name: '王芳', openId: null, phone: '13700000001', email: null, role: '工作组', scopeId: county });
    roster.markLookupFailed(id, 5000);
    const p = roster.person(id)!;
    roster.updatePerson({ ...p, name: '王芳' });
    expect(roster.unbound()[0]).toMatchObject({ lookupStatus: 'not_found', lookupAt: 5000 });
    roster.updatePerson({ ...p, phone: '13700000002' });
    expect(roster.unbound()[0]).toMatchObject({ phone: '13700000002', lookupStatus: null, lookupAt: null });
    db.close();
  });

  it('refuses a person with no way to reach them, and a phone that is not 11 digits', () => {
    const { db, roster, county } = setup();
    expect(() => roster.insertPerson({ name: '无名', openId: null, phone: null, email: null, role: '干部', scopeId: county })).toThrow();
    expect(() => roster.insertPerson({ name: '短号', openId: null, phone: '12345', email: null, role: '干部', scopeId: county })).toThrow();
    expect(roster.people()).toEqual([]);
    db.close();
  });
});
