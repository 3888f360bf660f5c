/**
 * Small, legible SVG charts for the bench report: line charts (throughput or progress against
 * time) and grouped bar charts (latency percentiles), with titled axes, units, ticks, a grid and
 * a legend. Written here rather than taken from a plotting library: two chart kinds need ~150
 * lines, the output is plain static SVG any browser or GitHub renders, and it adds no dependency.
 */

export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** Drawn dashed: a baseline beside the measured series. */
  dashed?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Fixed y range (e.g. 0..100 for progress); default 0..max. */
  yMax?: number;
  /** A logarithmic x axis (positive x only), ticked at the data's own x values. */
  xLog?: boolean;
}

export interface BarChart {
  title: string;
  yLabel: string;
  /** Category names along x (e.g. p50, p90, p99). */
  categories: string[];
  series: Array<{ name: string; values: number[] }>;
}

const WIDTH = 760;
const HEIGHT = 380;
const M = { left: 78, right: 24, top: 46, bottom: 58 };
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

export const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** About `count` round tick values from 0 (or min) to at least max. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v < max + step * 0.999; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

const fmtTick = (v: number) => (Math.abs(v) >= 1000 ? v.toLocaleString('en-US', { maximumFractionDigits: 0 }) : String(+v.toPrecision(4)));

type LegendEntry = { name: string; color: string; dashed?: boolean; bar?: boolean };

const LEGEND_ROW = 17;

/** The whole picture: title, axis titles, the plot's body, and the legend below the plot, where it hides no data. */
function frame(title: string, xLabel: string, yLabel: string, body: string[], keys: LegendEntry[]): string {
  const plotH = HEIGHT - M.top - M.bottom;
  const height = HEIGHT + keys.length * LEGEND_ROW + 8;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT} font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${M.left + (WIDTH - M.left - M.right) / 2}" y="${HEIGHT - 18}" text-anchor="middle" font-size="13">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(18 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="13">${escapeXml(yLabel)}</text>`,
    ...body,
    ...legend(keys, HEIGHT),
    '</svg>',
    '',
  ].join('\n');
}

function legend(names: LegendEntry[], top: number): string[] {
  const x = M.left;
  const out: string[] = [];
  names.forEach((n, i) => {
    const y = top + i * LEGEND_ROW;
    out.push(n.bar
      ? `<rect x="${x}" y="${y - 8}" width="22" height="10" fill="${n.color}"/>`
      : `<line x1="${x}" y1="${y - 4}" x2="${x + 22}" y2="${y - 4}" stroke="${n.color}" stroke-width="2.5"${n.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${x + 28}" y="${y}">${escapeXml(n.name)}</text>`);
  });
  return out;
}

export function lineChartSvg(chart: LineChart): string {
  const all = chart.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const xTicks = chart.xLog ? [...new Set(xs)].sort((a, b) => a - b) : niceTicks(0, Math.max(...xs, 0));
  const yTicks = chart.yMax !== undefined ? niceTicks(0, chart.yMax) : niceTicks(0, Math.max(...all.map((p) => p[1]), 0));
  const xMin = chart.xLog ? Math.log2(xTicks[0] ?? 1) : 0;
  const xMax = chart.xLog ? Math.log2(xTicks[xTicks.length - 1] ?? 2) : xTicks[xTicks.length - 1]!;
  const yMax = yTicks[yTicks.length - 1]!;
  const plotW = WIDTH - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  const sx = (x: number) => M.left + (((chart.xLog ? Math.log2(x) : x) - xMin) / Math.max(1e-9, xMax - xMin)) * plotW;
  const sy = (y: number) => M.top + plotH - (y / yMax) * plotH;
  const body: string[] = [];
  for (const t of yTicks) {
    body.push(`<line x1="${M.left}" y1="${sy(t).toFixed(1)}" x2="${M.left + plotW}" y2="${sy(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    body.push(`<text x="${M.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmtTick(t)}</text>`);
  }
  for (const t of xTicks) {
    body.push(`<line x1="${sx(t).toFixed(1)}" y1="${M.top + plotH}" x2="${sx(t).toFixed(1)}" y2="${M.top + plotH + 5}" stroke="#333333"/>`);
    body.push(`<text x="${sx(t).toFixed(1)}" y="${M.top + plotH + 19}" text-anchor="middle">${fmtTick(t)}</text>`);
  }
  body.push(`<polyline points="${M.left},${M.top} ${M.left},${M.top + plotH} ${M.left + plotW},${M.top + plotH}" fill="none" stroke="#333333"/>`);
  const keys: LegendEntry[] = [];
  chart.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    keys.push({ name: s.name, color, ...(s.dashed ? { dashed: true } : {}) });
    if (s.points.length === 0) return;
    const pts = s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    body.push(`<polyline class="series" data-name="${escapeXml(s.name)}" points="${pts}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    // Markers where points are few enough to tell apart (and always for a lone point).
    if (s.points.length <= 20 && !s.dashed) for (const [x, y] of s.points) body.push(`<circle class="point" cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${color}"/>`);
  });
  return frame(chart.title, chart.xLabel, chart.yLabel, body, keys);
}

export function barChartSvg(chart: BarChart): string {
  const values = chart.series.flatMap((s) => s.values).filter(Number.isFinite);
  const yTicks = niceTicks(0, Math.max(...values, 0));
  const yMax = yTicks[yTicks.length - 1]!;
  const plotW = WIDTH - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  const sy = (y: number) => M.top + plotH - (y / yMax) * plotH;
  const groupW = plotW / chart.categories.length;
  const barW = (groupW * 0.7) / chart.series.length;
  const body: string[] = [];
  for (const t of yTicks) {
    body.push(`<line x1="${M.left}" y1="${sy(t).toFixed(1)}" x2="${M.left + plotW}" y2="${sy(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    body.push(`<text x="${M.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmtTick(t)}</text>`);
  }
  chart.categories.forEach((c, g) => {
    body.push(`<text x="${(M.left + groupW * (g + 0.5)).toFixed(1)}" y="${M.top + plotH + 19}" text-anchor="middle">${escapeXml(c)}</text>`);
    chart.series.forEach((s, i) => {
      const v = s.values[g];
      if (v === undefined || !Number.isFinite(v)) return;
      const x = M.left + groupW * g + groupW * 0.15 + barW * i;
      body.push(`<rect class="bar" x="${x.toFixed(1)}" y="${sy(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(M.top + plotH - sy(v)).toFixed(1)}" fill="${PALETTE[i % PALETTE.length]}"/>`);
      body.push(`<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(sy(v) - 4).toFixed(1)}" text-anchor="middle" font-size="10">${fmtTick(+v.toPrecision(3))}</text>`);
    });
  });
  body.push(`<polyline points="${M.left},${M.top} ${M.left},${M.top + plotH} ${M.left + plotW},${M.top + plotH}" fill="none" stroke="#333333"/>`);
  return frame(chart.title, 'percentile', chart.yLabel, body, chart.series.map((s, i) => ({ name: s.name, color: PALETTE[i % PALETTE.length]!, bar: true })));
}
