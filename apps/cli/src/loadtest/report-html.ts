import type { MetricsSample } from './metrics-sampler.js';
import type { RequestRecord } from './request-record.js';
import { OPS, bucketise, chartBucketMs } from './stats.js';
import type { Summary } from './summary.js';
import { type ChartSeries, escapeHtml, lineChart } from './svg-chart.js';

const COLORS = {
  p50: '#2b7bb9',
  p95: '#e08a00',
  p99: '#c0392b',
  capture: '#6a3d9a',
  recall: '#1b9e77',
  all: '#333333',
} as const;

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');

/** Ids of the charts every report has (the smoke test checks each rendered). */
export const CHART_IDS = [
  'latency',
  'throughput',
  'error-rate',
  'decryption',
  'server-cpu',
  'server-memory',
] as const;

/**
 * report.html: one self-contained page (inline CSS and SVG, no script, a CSP that forbids any
 * fetch) with the summary tables and the charts of docs/LOADTEST.md.
 */
export function renderReport(
  summary: Summary,
  records: readonly RequestRecord[],
  metrics: readonly MetricsSample[],
): string {
  const totalMs = Math.max(summary.durationMs, 1);
  const bucketMs = chartBucketMs(totalMs);
  const xMax = Math.max(totalMs, ...metrics.map((s) => s.elapsedMs)) / 1000;
  const buckets = bucketise(records, totalMs, bucketMs);
  const mid = (startMs: number) => (startMs + bucketMs / 2) / 1000;
  const series = (
    name: string,
    color: string,
    pick: (b: (typeof buckets)[number]) => number,
  ): ChartSeries => ({
    name,
    color,
    points: buckets.map((b) => [mid(b.startMs), b.count === 0 ? Number.NaN : pick(b)] as const),
  });
  const perOp = OPS.map((op) => {
    const b = bucketise(
      records.filter((r) => r.op === op),
      totalMs,
      bucketMs,
    );
    return {
      name: `${op} ok/s`,
      color: COLORS[op],
      points: b.map((x) => [mid(x.startMs), x.okPerSecond] as const),
    };
  });
  const m = (name: string, color: string, pick: (s: MetricsSample) => number | undefined): ChartSeries => ({
    name,
    color,
    points: metrics.map((s) => [s.elapsedMs / 1000, pick(s) ?? Number.NaN] as const),
  });
  const charts = [
    lineChart({
      id: 'latency',
      title: `Latency of successful operations (per ${bucketMs / 1000} s)`,
      yUnit: 'ms',
      xMax,
      series: [
        series('p50', COLORS.p50, (b) => b.p50Ms),
        series('p95', COLORS.p95, (b) => b.p95Ms),
        series('p99', COLORS.p99, (b) => b.p99Ms),
      ],
    }),
    lineChart({
      id: 'throughput',
      title: 'Throughput',
      yUnit: 'op/s',
      xMax,
      series: [
        {
          name: 'all ok/s',
          color: COLORS.all,
          points: buckets.map((b) => [mid(b.startMs), b.okPerSecond] as const),
        },
        ...perOp,
      ],
    }),
    lineChart({
      id: 'error-rate',
      title: 'Errors and rate-limit refusals (share of operations)',
      yUnit: '%',
      xMax,
      series: [
        series('errors %', COLORS.p99, (b) => b.errorRate * 100),
        series('429 %', COLORS.p95, (b) => b.rateLimitedRate * 100),
      ],
    }),
    lineChart({
      id: 'decryption',
      title: 'Vault decryption time per result (vault_decryption_duration_seconds)',
      yUnit: 'ms',
      xMax,
      series: [
        m('mean', COLORS.p50, (s) => s.decryptMeanMs),
        m('p95 (histogram)', COLORS.p95, (s) => s.decryptP95Ms),
      ],
    }),
    lineChart({
      id: 'server-cpu',
      title:
        'Server CPU (vault_cpu_usage_percent: host; index_cpu_usage_percent: index process, % of one core)',
      yUnit: '%',
      xMax,
      series: [
        m('Vault', COLORS.capture, (s) => s.vaultCpuPercent),
        m('index', COLORS.recall, (s) => s.indexCpuPercent),
      ],
    }),
    lineChart({
      id: 'server-memory',
      title: 'Server memory (resident set size)',
      yUnit: 'MiB',
      xMax,
      series: [
        m('Vault', COLORS.capture, (s) =>
          s.vaultMemoryBytes === undefined ? undefined : s.vaultMemoryBytes / 2 ** 20,
        ),
        m('index', COLORS.recall, (s) =>
          s.indexMemoryBytes === undefined ? undefined : s.indexMemoryBytes / 2 ** 20,
        ),
      ],
    }),
  ];
  return page(summary, charts);
}

function row(cells: readonly (string | number)[], tag = 'td'): string {
  return `<tr>${cells.map((c) => `<${tag}>${escapeHtml(String(c))}</${tag}>`).join('')}</tr>`;
}

function page(s: Summary, charts: readonly string[]): string {
  const ops = [...OPS.map((op) => [op, s.byOp[op]] as const), ['all', s.total] as const];
  const opRows = ops
    .map(([name, r]) =>
      row([name, r.count, r.ok, r.errors, r.rateLimited, f1(r.p50Ms), f1(r.p95Ms), f1(r.p99Ms), f1(r.maxMs)]),
    )
    .join('');
  const stageRows = s.stages
    .map((st) =>
      row([
        st.index + 1,
        st.users,
        st.count,
        f1(st.perSecond),
        `${(st.errorRate * 100).toFixed(2)} %`,
        st.rateLimited,
        f1(st.p50Ms),
        f1(st.p95Ms),
        f1(st.p99Ms),
      ]),
    )
    .join('');
  const bp = s.breakingPoint;
  const breaking = s.scenario.isStepped
    ? `<p class="bp">Breaking point: ${bp === null ? 'none — every stage held' : escapeHtml(`stage ${bp.stage + 1} (${bp.users} users): ${bp.reason}`)}</p>`
    : '';
  const serverRows = (['vault', 'index'] as const)
    .flatMap((svc) => Object.entries(s.server.requests[svc]).map(([endpoint, n]) => row([svc, endpoint, n])))
    .join('');
  const d = s.server.decryption;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rune loadtest ${escapeHtml(s.scenario.name)} — ${escapeHtml(s.startedAt)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:760px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}.muted{color:#666}
.chart{margin:18px 0}.chart figcaption{font-weight:600;margin-bottom:4px}
.chart-svg{max-width:100%;height:auto;background:#fff}
.grid{stroke:#eee}.axis{stroke:#999}.tick{font-size:11px;fill:#666}
.series{stroke-width:1.8}.legend{font-size:12px}.key{margin-right:14px}
.key i{display:inline-block;width:12px;height:3px;margin:0 4px 3px 0;vertical-align:middle}
.bp{font-weight:600}.empty{color:#999;font-size:12px}
</style></head><body>
<h1>rune loadtest: ${escapeHtml(s.scenario.name)}</h1>
<p class="muted">Started ${escapeHtml(s.startedAt)}, ran ${(s.durationMs / 1000).toFixed(1)} s (${escapeHtml(s.stoppedBy)}).
Target ${escapeHtml(s.target.vaultUrl)} (Vault), ${escapeHtml(s.target.indexUrl)} (index), index <code>${escapeHtml(s.target.indexId)}</code>.
Mix capture ${s.scenario.mix.capture} : recall ${s.scenario.mix.recall}; stages ${escapeHtml(s.scenario.stages.map((st) => `${st.users} users × ${(st.durationMs / 1000).toFixed(1)} s`).join(', '))}.</p>
<h2>Summary</h2>
<p>${s.operations} operations, ${f1(s.perSecond)}/s (${f1(s.okPerSecond)}/s successful);
errors ${s.total.errors} (${(s.total.errorRate * 100).toFixed(2)} %); rate-limited (429) ${s.total.rateLimited}.
Vault decryption: ${d.count} results, mean ${f1(d.meanMs)} ms, p95 ${f1(d.p95Ms)} ms.</p>
${breaking}
<table><thead>${row(['op', 'count', 'ok', 'errors', '429', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'], 'th')}</thead><tbody>${opRows}</tbody></table>
<h2>Stages</h2>
<p class="muted">Figures of each stage count operations started after its ramp.</p>
<table><thead>${row(['stage', 'users', 'ops', 'op/s', 'errors', '429', 'p50 ms', 'p95 ms', 'p99 ms'], 'th')}</thead><tbody>${stageRows}</tbody></table>
<h2>Charts</h2>
${charts.join('\n')}
<h2>Requests counted by the services</h2>
<p class="muted">From each service's <code>*_requests_total</code> between the first and last scrape (scrapes included); ${s.server.scrapes} scrapes, ${s.server.scrapeFailures} failed.</p>
<table><thead>${row(['service', 'endpoint', 'requests'], 'th')}</thead><tbody>${serverRows}</tbody></table>
</body></html>
`;
}
