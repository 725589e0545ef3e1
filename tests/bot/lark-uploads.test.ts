import { afterEach, describe, expect, it } from 'vitest';
import { larkUploader } from '../../src/bot/lark-uploads.js';
import { FakeLark } from '../helpers/fake-lark.js';
import { startTestRuntime, type TestEnv } from '../helpers/test-runtime.js';

describe('uploads through the SDK', () => {
  let fake: FakeLark;
  let t: TestEnv;
  afterEach(async () => {
    await t.close({ remove: true });
    await fake.close();
  });

  it('uploads an image and a file and returns their keys; a failed upload returns null', async () => {
    fake = await FakeLark.start();
    t = await startTestRuntime({ fake });
    const up = larkUploader(t.rt.larkClient!, t.rt.logger);
    expect(await up.image(Buffer.from('png-bytes'))).toBe('img_v3_fake_1');
    expect(await up.file('进度表.xlsx', Buffer.from('xlsx-bytes'), 'xls')).toBe('file_v3_fake_1');
    expect(fake.images[0]!.bytes).toBeGreaterThan(9);
    fake.failUploads = true;
    expect(await up.image(Buffer.from('png'))).toBeNull();
    expect(await up.file('a.xlsx', Buffer.from('x'), 'xls')).toBeNull();
  });
});
