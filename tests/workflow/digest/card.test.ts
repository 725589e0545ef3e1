import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateProvince, type ProvinceSummary } from '../../../bench/province-data.js';
import { renderCardText } from '../../../src/bot/card-text.js';
import { renderPng } from '../../../src/charts/render.js';
import { ManualClock } from '../../../src/clock.js';
import { openDb, type Db } from '../../../src/store/db.js';
import { openTestDb } from '../../helpers/store.js';
import { createWorkflowRepos } from '../../../src/store/workflow-repos.js';
import type { WorkflowContext } from '../../../src/workflow/context.js';
import { cardBytes, digestCard, overdueCard } from '../../../src/workflow/digest/card.js';
import { digestChart, rankingOption, stageCompletionOption } from '../../../src/workflow/digest/charts.js';
import { buildDigest, type DigestData } from '../../../src/workflow/digest/data.js';
import { loadPrincipal } from '../../../src/workflow/permissions.js';
import { tempDir } from '../../helpers/test-runtime.js';
import { digestWorld } from './campaign.js';

const LIMIT = 30 * 1024;
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('a county of 3,000 villages', () => {
  let db: Db;
  let ctx: WorkflowContext;
  let s: ProvinceSummary;
  let d: DigestData;
  beforeAll(() => {
    db = openTestDb(join(tempDir('hj-digest-card-'), 'huanjie.db'));
    s = generateProvince(db, { villages: 3000, people: 6000, talks: 10000, seed: 7 });
    ctx = { repos: createWorkflowRepos(db), tz: 'Asia/Shanghai', clock: new ManualClock(Date.parse('2026-11-10T00:30:00Z')) };
    d = buildDigest(ctx, loadPrincipal(ctx.repos.roster, { openId: s.leaders.county[0]!, isAdmin: false }), '2026-11-10');
  }, 60_000);
  afterAll(() => db.close());

  it('the card stays under 30 KB, cuts long lists with “另有 N” and keeps the names', () => {
    expect(d.villages).toBe(3000);
    expect(d.overdue.villageCount).toBeGreaterThan(100);
    const c = digestCard(d, { imageKey: 'img_v3_x', dashboardUrl: 'https://hj.example/d' });
    expect(cardBytes(c)).toBeLessThanOrEqual(LIMIT);
    const text = renderCardText(c);
    expect(text).toMatch(/…另有 \d+ 个村/);
    const first = d.overdue.villages[0]!;
    expect(text).toContain(`${first.township}${first.village}（${first.responsible[0]!.name}`);
    expect(text).toContain('〔图片〕');
    expect(text).toContain('[查看详情] https://hj.example/d');
    // Every element is one Lark renders in a card 2.0 body.
    for (const el of c.body.elements) expect(['markdown', 'hr', 'img', 'button', 'column_set']).toContain(el.tag);
  });

  it('without an image or a dashboard the card has neither', () => {
    const text = renderCardText(digestCard(d));
    expect(text).not.toContain('〔图片〕');
    expect(text).not.toContain('查看详情');
  });

  it('the 逾期 card for the county and for one township stays under 30 KB', () => {
    expect(cardBytes(overdueCard(d))).toBeLessThanOrEqual(LIMIT);
    const town = d.ranking.rows[0]!;
    const c = overdueCard(d, { townshipId: town.id, township: town.name });
    expect(cardBytes(c)).toBeLessThanOrEqual(LIMIT);
    const text = renderCardText(c);
    expect(text).toContain(`逾期清单 · ${town.name}`);
    for (const v of d.overdue.villages.filter((x) => x.townshipId !== town.id).slice(0, 50)) expect(text).not.toContain(`${v.township}${v.village}`);
  });

  it('a tight byte budget still gives a valid card with the overview', () => {
    const c = digestCard(d, { maxBytes: 6000 });
    expect(cardBytes(c)).toBeLessThanOrEqual(6000);
    expect(renderCardText(c)).toContain('总体进度');
  });

  it('chart options: the stacked bars partition each stage, the ranking is in percent', () => {
    const o = stageCompletionOption(d.completion.byStage) as { series: { name: string; data: number[] }[]; yAxis: { data: string[] } };
    expect(o.yAxis.data).toHaveLength(d.completion.byStage.length);
    d.completion.byStage.forEach((st, i) => expect(o.series.reduce((n, x) => n + x.data[i]!, 0)).toBe(st.total));
    expect(o.series.map((x) => x.name)).toEqual(['已完成', '进行中', '受阻', '未开始', '逾期']);
    const r = rankingOption(d.ranking.rows) as { series: { data: { value: number }[] }[]; yAxis: { data: string[] } };
    expect(r.yAxis.data[0]).toMatch(/^1\. /);
    for (const x of r.series[0]!.data) expect(x.value).toBeGreaterThanOrEqual(0), expect(x.value).toBeLessThanOrEqual(100);
    expect(r.series[0]!.data[0]!.value).toBeCloseTo(Math.round(d.ranking.rows[0]!.rate * 1000) / 10);
  });

  it('the combined chart renders to a PNG', () => {
    const { option, width, height } = digestChart(d);
    expect(height).toBeGreaterThan(300);
    expect(renderPng(option, width, height).subarray(0, 8).equals(PNG)).toBe(true);
  }, 30_000);
});

describe('the sample campaign', () => {
  it('a township leader’s card names only their villages and marks their township in the ranking', () => {
    const w = digestWorld();
    try {
      w.on('2026-11-05', 8);
      const d = buildDigest(w.ctx, w.principal(w.campaign.ids.townshipLeaders[0]!), '2026-11-05');
      const text = renderCardText(digestCard(d));
      expect(text).toMatch(/换届工作日报 · 11月5日 星期四 — 沁河镇（沁源县 乡镇级）· 14 个村\(社区\)/);
      expect(text).toMatch(/沁河镇（本乡镇）/);
      for (const p of w.campaign.people.filter((x) => x.township === '郭道镇' || x.township === '灵空山镇')) expect(text).not.toContain(p.name);
    } finally {
      w.close();
    }
  });
});
