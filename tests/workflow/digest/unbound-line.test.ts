import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderCardText } from '../../../src/bot/card-text.js';
import { digestCard } from '../../../src/workflow/digest/card.js';
import { buildDigest } from '../../../src/workflow/digest/data.js';
import { digestWorld, type DigestWorld } from './campaign.js';

describe("the admin's digest names the people without a Lark account (issue 14)", () => {
  let w: DigestWorld;
  beforeEach(() => {
    w = digestWorld();
    w.on('2026-11-05');
  });
  afterEach(() => w.close());

  it('says how many and who, and that they get no reminders; leaders and a fully bound roster show nothing', () => {
    const admin = () => renderCardText(digestCard(buildDigest(w.ctx, w.principal(w.campaign.ids.admin), '2026-11-05')));
    expect(admin()).not.toContain('未绑定飞书账号');

    const t = w.village('沁河镇', '城西村');
    w.repos.roster.insertPerson({ name: '赵敏', openId: null, phone: '13912345678', email: null, role: '干部', scopeId: t.townshipId });
    w.repos.roster.insertPerson({ name: '钱多', openId: null, phone: null, email: 'qian@example.cn', role: '工作组', scopeId: t.townshipId });
    const data = buildDigest(w.ctx, w.principal(w.campaign.ids.admin), '2026-11-05');
    expect(data.admin?.unbound).toEqual({ count: 2, names: ['赵敏', '钱多'] });
    const text = admin();
    expect(text).toContain('未绑定飞书账号：2 人');
    expect(text).toContain('（赵敏、钱多）');
    expect(text).toContain('他们收不到提醒');
    expect(text).not.toContain('13912345678');

    const leader = renderCardText(digestCard(buildDigest(w.ctx, w.principal(w.campaign.ids.countyLeader), '2026-11-05')));
    expect(leader).not.toContain('未绑定飞书账号');
  });
});
