import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import * as echarts from 'echarts';

/**
 * Server-side charts: ECharts renders an option to SVG (SSR, no DOM), resvg turns
 * the SVG into a PNG with a real CJK font (Noto Sans SC from npm, so no system
 * font package is needed). The web dashboard uses the same options in the browser.
 */
const require = createRequire(import.meta.url);
const FONT_FILES = [
  require.resolve('@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf'),
  require.resolve('@expo-google-fonts/noto-sans-sc/700Bold/NotoSansSC_700Bold.ttf'),
];
export const CHART_FONT_FAMILY = 'Noto Sans SC';

export function renderSvg(option: echarts.EChartsCoreOption, width = 800, height = 450): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: CHART_FONT_FAMILY }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** Font settings for resvg: only the bundled CJK font, so output is the same on every machine. */
export function chartFontOptions() {
  return { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: CHART_FONT_FAMILY };
}

export function svgToPng(svg: string, width = 800): Buffer {
  const r = new Resvg(svg, {
    fitTo: { mode: 'width', value: width * 2 }, // 2× for phone screens
    background: '#ffffff',
    font: chartFontOptions(),
  });
  return r.render().asPng();
}

export function renderPng(option: echarts.EChartsCoreOption, width = 800, height = 450): Buffer {
  return svgToPng(renderSvg(option, width, height), width);
}
