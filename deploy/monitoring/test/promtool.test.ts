import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import {
  MONITORING_DIR,
  dashboardQueries,
  promtool,
  readDashboard,
  variableQueries,
  withGrafanaVariablesFilled,
} from './assets.js';

// These run the real promtool (Debian package `prometheus`); a missing promtool fails them.
describe('promtool', () => {
  let scratch: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'rune-promtool-'));
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("fails, naming Debian's prometheus package, when promtool is not installed", async () => {
    await expect(promtool(['--version'], { env: { PATH: scratch } })).rejects.toThrow(
      /install Debian's `prometheus` package/,
    );
  });

  it('accepts the alert rules (promtool check rules)', async () => {
    const result = await promtool(['check', 'rules', 'deploy/monitoring/prometheus-alerts.yml']);
    expect(result.output).toContain('SUCCESS');
    expect(result.code, result.output).toBe(0);
  });

  it('passes the alert unit tests: each alert fires and stays silent as its cases expect', async () => {
    const result = await promtool(['test', 'rules', 'deploy/monitoring/alerts.test.yml']);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  it('accepts the scrape example and the rule file it loads (promtool check config)', async () => {
    const result = await promtool(['check', 'config', 'deploy/monitoring/prometheus.yml']);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('fails the alert unit tests when a threshold moves, so they do test the rules', async () => {
    const rules = await readFile(join(MONITORING_DIR, 'prometheus-alerts.yml'), 'utf8');
    const moved = rules.replace(
      'expr: vault_memory_usage_percent > 95',
      'expr: vault_memory_usage_percent > 99',
    );
    expect(moved).not.toBe(rules);
    await writeFile(join(scratch, 'prometheus-alerts.yml'), moved);
    await copyFile(join(MONITORING_DIR, 'alerts.test.yml'), join(scratch, 'alerts.test.yml'));
    const result = await promtool(['test', 'rules', 'alerts.test.yml'], { cwd: scratch });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('alertname: VaultCriticalMemoryUsage');
  });

  it('parses every dashboard query as PromQL (as recording rules, Grafana variables filled in)', async () => {
    const dashboard = await readDashboard();
    const exprs = [
      ...dashboardQueries(dashboard).map((q) => q.expr),
      ...variableQueries(dashboard).map((v) => v.selector),
    ];
    const rules = exprs.map((expr, i) => ({
      record: `rune:dashboard_query_${i}`,
      expr: withGrafanaVariablesFilled(expr),
    }));
    const file = join(scratch, 'dashboard-queries.yml');
    await writeFile(file, toYaml({ groups: [{ name: 'dashboard', rules }] }));
    const result = await promtool(['check', 'rules', file]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain(`SUCCESS: ${exprs.length} rules found`);
  });
});
