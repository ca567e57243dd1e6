import { describe, expect, it } from 'vitest';
import { missingReferences, parseExposition, promqlRefs } from './promql.js';

const SCRAPE = `# HELP demo_requests_total Requests
# TYPE demo_requests_total counter
demo_requests_total{method="GET",endpoint="/x",status="200"} 3
# TYPE demo_duration_seconds histogram
demo_duration_seconds_bucket{le="0.1",endpoint="/x"} 1
demo_duration_seconds_bucket{le="+Inf",endpoint="/x"} 2
demo_duration_seconds_sum{endpoint="/x"} 0.3
demo_duration_seconds_count{endpoint="/x"} 2
# TYPE demo_refusals_total counter
# TYPE demo_up gauge
demo_up 1
`;

describe('promqlRefs', () => {
  it('finds metric names, selector labels and grouping labels, skipping functions and keywords', () => {
    const refs = promqlRefs(
      'histogram_quantile(0.99, sum by (job, le) (rate(demo_duration_seconds_bucket{endpoint!~"/metrics|/health.*"}[5m]))) >= 5 ' +
        'and on (instance) demo_up == 1 or absent(up{job="x"}) unless ignoring(status) demo_requests_total offset 5m',
    );
    expect([...refs.metrics].sort()).toEqual([
      'demo_duration_seconds_bucket',
      'demo_requests_total',
      'demo_up',
      'up',
    ]);
    expect([...(refs.selectorLabels.get('demo_duration_seconds_bucket') ?? [])]).toEqual(['endpoint']);
    expect([...(refs.selectorLabels.get('up') ?? [])]).toEqual(['job']);
    expect([...refs.groupingLabels].sort()).toEqual(['instance', 'job', 'le', 'status']);
  });

  it('reads Grafana variables as placeholders and ignores the content of strings', () => {
    const refs = promqlRefs(
      'sum by (reason) (increase(demo_refusals_total{instance=~"$instance", reason="by (fake)"}[$__rate_interval]))',
    );
    expect([...refs.metrics]).toEqual(['demo_refusals_total']);
    expect([...(refs.selectorLabels.get('demo_refusals_total') ?? [])]).toEqual(['instance', 'reason']);
    expect([...refs.groupingLabels]).toEqual(['reason']);
  });

  it('refuses what it cannot read rather than guessing', () => {
    expect(() => promqlRefs('')).toThrow(/empty/);
    expect(() => promqlRefs('not_a_function(demo_up)')).toThrow(/unknown PromQL function/);
    expect(() => promqlRefs('{__name__="demo_up"}')).toThrow(/without a metric name/);
    expect(() => promqlRefs('demo_up{job="x}')).toThrow(/unterminated/);
  });
});

describe('missingReferences', () => {
  const families = parseExposition(SCRAPE);

  it('accepts emitted metrics, histogram series, their labels and the target labels', () => {
    expect(
      missingReferences(
        'histogram_quantile(0.95, sum by (job, instance, le, endpoint) (rate(demo_duration_seconds_bucket{instance="a"}[5m])))' +
          ' / sum(demo_duration_seconds_count) + sum by (status) (demo_requests_total{method="GET"}) + up{job="x"}',
        families,
      ),
    ).toEqual([]);
  });

  it('names each unknown metric, selector label and grouping label', () => {
    expect(
      missingReferences(
        'sum by (reason, zone) (demo_requests_total{reason="x"}) + demo_missing_total',
        families,
      ),
    ).toEqual([
      'metric demo_requests_total has no label reason',
      'metric demo_missing_total is not emitted',
      'no metric in the expression has the grouping label reason',
      'no metric in the expression has the grouping label zone',
    ]);
  });

  it('does not take a counter suffix for a histogram series', () => {
    expect(missingReferences('demo_requests_total_count', families)).toEqual([
      'metric demo_requests_total_count is not emitted',
    ]);
  });

  it('knows a declared family without samples but not its labels', () => {
    expect(missingReferences('demo_refusals_total', families)).toEqual([]);
    expect(missingReferences('sum by (reason) (demo_refusals_total)', families)).toEqual([
      'no metric in the expression has the grouping label reason',
    ]);
  });
});
