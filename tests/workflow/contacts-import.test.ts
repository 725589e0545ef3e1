import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { runTs } from '../helpers/spawn.js';
import { startTestRuntime, tempDir, type TestEnv } from '../helpers/test-runtime.js';

/** 07:45 Asia/Shanghai: the tick plans no slot, only the contacts. */
const NOW = Date.parse('2026-11-04T23:45:00Z');

describe('a roster imported by phone from the CLI, in another process, is bound by the running service (issue 14)', () => {
  let fake: FakeLark | undefined;
  let t: TestEnv | undefined;
  afterEach(async () => {
    await t?.close({ remove: true });
    await fake?.close();
  });

  it('import of phone-only people, then one scheduler tick: found bound, the rest 未找到', async () => {
    fake = await FakeLark.start();
    fake.addUsers({ openId: 'ou_imp_1', mobile: '13912345671' }, { openId: 'ou_imp_2', mobile: '13912345672' });
    t = await startTestRuntime({ fake, clock: new ManualClock(NOW) });
    const folder = join(tempDir('hj-csv-'), 'roster');
    mkdirSync(folder);
    writeFileSync(join(folder, '村社区.csv'), '县,乡镇,村社区,类型,选举日\n沁源县,沁河镇,城西村,村,2026-11-28\n');
    writeFileSync(
      join(folder, '人员.csv'),
      '姓名,手机号,角色,县,乡镇,负责村社区\n' +
        '换届办管理员,13912345670,管理员,沁源县,,\n' +
        '张伟,139 1234 5671,干部,沁源县,沁河镇,城西村\n' +
        '王芳,+86 13912345672,工作组,沁源县,沁河镇,城西村\n',
    );
    const imp = await runTs('src/cli/main.ts', ['import', folder], { env: { DATA_DIR: t.dir } });
    expect(imp.code, imp.stderr).toBe(0);

    await t.rt.reminders.scheduler.tick();
    const people = new Map(t.rt.workflow.repos.roster.people().map((p) => [p.name, p]));
    expect(people.get('张伟')!.openId).toBe('ou_imp_1');
    expect(people.get('王芳')!.openId).toBe('ou_imp_2');
    expect(people.get('换届办管理员')!.openId).toBeNull();
    expect(t.rt.workflow.repos.roster.unbound()).toEqual([expect.objectContaining({ name: '换届办管理员', lookupStatus: 'not_found' })]);
    expect(t.logs.join('')).toContain('已匹配 2/3');
  }, 60_000);
});
