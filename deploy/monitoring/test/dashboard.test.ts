import { beforeAll, describe, expect, it } from 'vitest';
import { type Dashboard, type Panel, dashboardQueries, readDashboard, variableQueries } from './assets.js';
import { promqlRefs } from './promql.js';

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

/** Panels the operations kit promises, with their type and a metric each must chart. */
const REQUIRED_PANELS: readonly { title: string; type: string; metrics: readonly string[] }[] = [
  { title: 'Vault health', type: 'stat', metrics: ['vault_health_status'] },
  { title: 'CPU usage', type: 'timeseries', metrics: ['vault_cpu_usage_percent'] },
  { title: 'Memory usage', type: 'timeseries', metrics: ['vault_memory_usage_bytes'] },
  { title: 'Request rate', type: 'timeseries', metrics: ['vault_requests_total'] },
  {
    title: 'Request duration p95/p99',
    type: 'timeseries',
    metrics: ['vault_request_duration_seconds_bucket'],
  },
  { title: 'Decryption operations', type: 'timeseries', metrics: ['vault_decryption_operations_total'] },
  {
    title: 'Decryption duration p95',
    type: 'timeseries',
    metrics: ['vault_decryption_duration_seconds_bucket'],
  },
  { title: 'Key access operations', type: 'timeseries', metrics: ['vault_key_access_total'] },
  { title: 'Index search latency', type: 'timeseries', metrics: ['index_search_duration_seconds_bucket'] },
  {
    title: 'Refused searches by reason',
    type: 'timeseries',
    metrics: ['vault_refusals_total', 'index_refusals_total'],
  },
  { title: 'Rate-limit hits', type: 'timeseries', metrics: ['vault_rate_limited_total'] },
  { title: 'Audit log entries', type: 'timeseries', metrics: ['vault_audit_entries_total'] },
];

describe('grafana-dashboard.json', () => {
  let dashboard: Dashboard;
  let panels: Panel[];

  beforeAll(async () => {
    dashboard = await readDashboard();
    panels = dashboard.panels.filter((p) => p.type !== 'row');
  });

  it('is a current-schema dashboard with a stable uid', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.uid).toBe('rune-overview');
    expect(dashboard.panels.filter((p) => p.type === 'row').every((r) => (r.panels ?? []).length === 0)).toBe(
      true,
    );
  });

  it('picks its Prometheus datasource through a variable and its instances through label_values', () => {
    const [first] = dashboard.templating.list;
    expect(first).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' });
    const queries = variableQueries(dashboard);
    expect(queries.map((q) => [q.name, q.label])).toEqual([
      ['instance', 'instance'],
      ['index_instance', 'instance'],
    ]);
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
      expect(v.datasource, v.name).toEqual(DATASOURCE);
    }
  });

  it('queries that datasource from every panel and target', () => {
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual(DATASOURCE);
      for (const target of panel.targets ?? []) expect(target.datasource, panel.title).toEqual(DATASOURCE);
    }
  });

  it('holds every required panel, charting the metric it is named for', () => {
    for (const required of REQUIRED_PANELS) {
      const panel = panels.find((p) => p.title === required.title);
      expect(panel?.type, required.title).toBe(required.type);
      const metrics = new Set((panel?.targets ?? []).flatMap((t) => [...promqlRefs(t.expr).metrics]));
      for (const metric of required.metrics) expect(metrics, required.title).toContain(metric);
    }
  });

  it('gives every panel at least one non-empty query, filtered to the chosen instances', () => {
    for (const panel of panels) expect((panel.targets ?? []).length, panel.title).toBeGreaterThan(0);
    for (const { panel, expr } of dashboardQueries(dashboard)) {
      expect(expr.trim(), panel).not.toBe('');
      const refs = promqlRefs(expr);
      expect(refs.metrics.size, panel).toBeGreaterThan(0);
      for (const metric of refs.metrics) {
        expect(refs.selectorLabels.get(metric), `${panel}: ${metric}`).toContain('instance');
      }
      for (const m of expr.matchAll(/\b(vault|index)_[a-z_]+\{([^}]*)\}/g)) {
        const variable = m[1] === 'vault' ? '$instance' : '$index_instance';
        expect(m[2], `${panel}: ${m[0]}`).toContain(`instance=~"${variable}"`);
      }
    }
  });

  it('computes latency percentiles with histogram_quantile over _bucket series', () => {
    const latency = panels.filter((p) => /p9[59]|latency/.test(p.title));
    expect(latency.length).toBeGreaterThanOrEqual(3);
    for (const panel of latency) {
      for (const target of panel.targets ?? []) {
        expect(target.expr, panel.title).toMatch(/^histogram_quantile\(0\.\d+, sum by \(le[,)].*_bucket\{/);
      }
    }
  });

  it('lays panels out without overlap inside the 24-column grid, with unique ids', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const taken = new Set<string>();
    for (const { gridPos, title } of dashboard.panels) {
      expect(gridPos.x + gridPos.w, title).toBeLessThanOrEqual(24);
      for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
        for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++) {
          expect(taken.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
          taken.add(`${x},${y}`);
        }
      }
    }
  });
});
