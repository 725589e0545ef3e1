import { describe, expect, it } from 'vitest';
import { Resvg } from '@resvg/resvg-js';
import { chartFontOptions, renderPng, renderSvg } from '../../src/charts/render.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Dark pixels after rasterising: glyphs drawn means ink; a missing font leaves the canvas blank. */
function ink(svg: string, font: ConstructorParameters<typeof Resvg>[1] extends infer O ? (O extends { font?: infer F } ? F : never) : never): number {
  const px = new Resvg(svg, { background: '#ffffff', font }).render().pixels;
  let dark = 0;
  for (let i = 0; i < px.length; i += 4) if (px[i]! < 128) dark++;
  return dark;
}

describe('server-side charts', () => {
  it('renders an ECharts option to SVG with the Chinese labels and to a PNG', () => {
    const option = {
      title: { text: '各阶段完成情况' },
      xAxis: { type: 'category', data: ['审计', '资格审查'] },
      yAxis: { type: 'value' },
      series: [{ type: 'bar', data: [3, 1] }],
    };
    const svg = renderSvg(option, 400, 300);
    expect(svg).toContain('各阶段完成情况');
    expect(svg).toContain('资格审查');
    expect(renderPng(option, 400, 300).subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  });

  it('draws Chinese glyphs with the bundled CJK font, on a machine without system fonts too', () => {
    const text = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60"><text x="10" y="45" font-size="40" font-family="Noto Sans SC" fill="#000">换届审计</text></svg>`;
    expect(ink(text, chartFontOptions())).toBeGreaterThan(500);
    expect(ink(text, { loadSystemFonts: false })).toBe(0);
  });
});
