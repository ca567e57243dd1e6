/** One line of a chart: points in data units; NaN y values break the line. */
export interface ChartSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface ChartSpec {
  /** Element id (a stable name the test and readers can find). */
  readonly id: string;
  readonly title: string;
  readonly yUnit: string;
  readonly series: readonly ChartSeries[];
  /** x axis: seconds since the run started. */
  readonly xMax: number;
}

const WIDTH = 720;
const HEIGHT = 240;
const PAD = { left: 56, right: 16, top: 16, bottom: 32 } as const;

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** 1, 2 or 5 × 10^n at or above `raw / 5`: about five gridlines. */
export function niceStep(max: number): number {
  if (!(max > 0)) return 1;
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const m = raw / mag;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * mag;
}

function label(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 1000) return `${(value / 1000).toFixed(value % 1000 === 0 ? 0 : 1)}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) < 1 ? 2 : 1);
}

/** The polyline paths of one series: a run of finite points per path. */
function paths(
  points: readonly (readonly [number, number])[],
  x: (v: number) => number,
  y: (v: number) => number,
): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const [px, py] of points) {
    if (!Number.isFinite(py) || !Number.isFinite(px)) {
      if (current.length > 0) out.push(current.join(' '));
      current = [];
      continue;
    }
    current.push(`${current.length === 0 ? 'M' : 'L'}${x(px).toFixed(1)},${y(py).toFixed(1)}`);
  }
  if (current.length > 0) out.push(current.join(' '));
  return out;
}

/**
 * A line chart as inline SVG: axes, gridlines, one path per series (a single point is drawn as a
 * dot), a legend. No script and no external resource: the report must open offline.
 */
export function lineChart(spec: ChartSpec): string {
  const finite = spec.series.flatMap((s) => s.points.map((p) => p[1]).filter((v) => Number.isFinite(v)));
  const yMaxRaw = finite.length === 0 ? 1 : Math.max(...finite);
  const step = niceStep(yMaxRaw > 0 ? yMaxRaw : 1);
  const yMax = Math.max(step, Math.ceil(yMaxRaw / step) * step);
  const xMax = spec.xMax > 0 ? spec.xMax : 1;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (v: number) => PAD.left + (v / xMax) * plotW;
  const y = (v: number) => PAD.top + plotH - (v / yMax) * plotH;
  const parts: string[] = [];
  for (let v = 0; v <= yMax + step / 2; v += step) {
    parts.push(
      `<line class="grid" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/>`,
      `<text class="tick" x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${label(v)}</text>`,
    );
  }
  const xStep = niceStep(xMax);
  for (let v = 0; v <= xMax + xStep / 2; v += xStep) {
    parts.push(
      `<text class="tick" x="${x(v).toFixed(1)}" y="${HEIGHT - PAD.bottom + 16}" text-anchor="middle">${label(v)}</text>`,
    );
  }
  parts.push(
    `<line class="axis" x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}"/>`,
    `<line class="axis" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}"/>`,
    `<text class="tick" x="${WIDTH - PAD.right}" y="${HEIGHT - 2}" text-anchor="end">seconds</text>`,
    `<text class="tick" x="4" y="12">${escapeHtml(spec.yUnit)}</text>`,
  );
  for (const s of spec.series) {
    for (const d of paths(s.points, x, y)) {
      if (d.includes('L')) {
        parts.push(
          `<path class="series" d="${d}" stroke="${s.color}" fill="none"><title>${escapeHtml(s.name)}</title></path>`,
        );
      } else {
        const [cx, cy] = d.slice(1).split(',');
        parts.push(`<circle class="series" cx="${cx ?? 0}" cy="${cy ?? 0}" r="2.5" fill="${s.color}"/>`);
      }
    }
  }
  const legend = spec.series
    .map((s) => `<span class="key"><i style="background:${s.color}"></i>${escapeHtml(s.name)}</span>`)
    .join('');
  const empty = finite.length === 0 ? '<p class="empty">no data</p>' : '';
  return `<figure class="chart" id="${escapeHtml(spec.id)}"><figcaption>${escapeHtml(spec.title)}</figcaption>
<svg class="chart-svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(spec.title)}">${parts.join('')}</svg>
<div class="legend">${legend}</div>${empty}</figure>`;
}
