import { describe, expect, it } from 'vitest';
import { resolveIdentity } from '../../src/cli/chat.js';
import { UserError } from '../../src/errors.js';
import { rosterResolver } from '../../src/handlers/actor.js';
import type { Person } from '../../src/workflow/types.js';

const people: Person[] = [
  { id: 1, name: '张三', openId: 'ou_zhang_1', role: '干部', scopeId: 2, phone: null, email: null },
  { id: 2, name: '李四', openId: 'ou_li_1', role: '领导', scopeId: 1, phone: null, email: null },
  { id: 3, name: '李四', openId: 'ou_li_2', role: '工作组', scopeId: 2, phone: null, email: null },
  { id: 4, name: '王办', openId: 'ou_admin', role: '管理员', scopeId: 1, phone: null, email: null },
];
const roster = { people: () => people, personByOpenId: (o: string) => people.find((p) => p.openId === o) };

describe('chat --as', () => {
  it('a roster name acts as that person; an open_id as itself', () => {
    expect(resolveIdentity('张三', roster)).toEqual({ openId: 'ou_zhang_1', label: '张三（干部）' });
    expect(resolveIdentity('ou_li_2', roster).openId).toBe('ou_li_2');
    expect(resolveIdentity('', roster).openId).toBe('ou_local_console');
  });
  it('refuses an unknown name (with a suggestion) and an ambiguous one', () => {
    expect(() => resolveIdentity('张四', roster)).toThrow(UserError);
    expect(() => resolveIdentity('张四', roster)).toThrow(/花名册中没有「张四」。您是不是要找：张三/);
    expect(() => resolveIdentity('李四', roster)).toThrow(/有 2 人叫「李四」.*ou_li_1.*ou_li_2/);
  });
  it('before any roster is imported, a name is a stable local identity', () => {
    const empty = { people: () => [] };
    expect(resolveIdentity('张三', empty).openId).toBe(resolveIdentity('张三', empty).openId);
    expect(resolveIdentity('张三', empty).openId).toMatch(/^ou_local_/);
  });
});

describe('roster-backed actor resolver', () => {
  it('gives role and scope from the roster; env admins stay admins; role 管理员 is admin', () => {
    const r = rosterResolver(roster, ['ou_env_admin', 'ou_zhang_1']);
    expect(r('ou_li_1')).toEqual({ openId: 'ou_li_1', name: '李四', isAdmin: false, personId: 2, role: '领导', scopeId: 1 });
    expect(r('ou_zhang_1').isAdmin).toBe(true);
    expect(r('ou_admin').isAdmin).toBe(true);
    expect(r('ou_env_admin')).toEqual({ openId: 'ou_env_admin', isAdmin: true });
    expect(r('ou_nobody')).toEqual({ openId: 'ou_nobody', isAdmin: false });
  });
});
