import { access, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  type AlertRule,
  MONITORING_DIR,
  RUNBOOK_BASE_URL,
  RUNBOOK_PATH,
  readAlertRules,
  readPrometheusConfig,
  readRuleTests,
} from './assets.js';
import { promqlRefs } from './promql.js';

/** The alerts the operations kit promises (issue: "Monitoring assets"), with their tier. */
const REQUIRED_ALERTS = {
  VaultDown: 'critical',
  VaultCriticalMemoryUsage: 'critical',
  VaultCriticalCPUUsage: 'critical',
  VaultHighDecryptionLatency: 'critical',
  VaultCriticalErrorRate: 'critical',
  VaultKeyAccessFailure: 'critical',
  VaultCriticalDiskSpace: 'critical',
  VaultHighMemoryUsage: 'warning',
  VaultHighCPUUsage: 'warning',
  VaultSlowDecryption: 'warning',
  VaultHighErrorRate: 'warning',
  VaultDecryptionFailures: 'warning',
  VaultUnauthorizedKeyAccess: 'warning',
  VaultLowDiskSpace: 'warning',
  VaultSuspiciousActivity: 'warning',
  VaultHighRequestRate: 'info',
  VaultNoDecryptionOperations: 'info',
  VaultRestarted: 'info',
  IndexDown: 'critical',
  IndexSlowSearch: 'warning',
  IndexStorageErrors: 'critical',
} as const;

describe('alert rules', () => {
  let rules: AlertRule[];
  let runbook: string;

  beforeAll(async () => {
    rules = await readAlertRules();
    runbook = await readFile(RUNBOOK_PATH, 'utf8');
  });

  it('hold every required alert in its tier, each name once', () => {
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const [name, severity] of Object.entries(REQUIRED_ALERTS)) {
      expect(rules.find((r) => r.alert === name)?.labels.severity, name).toBe(severity);
    }
    expect(new Set(rules.map((r) => r.labels.severity))).toEqual(new Set(['critical', 'warning', 'info']));
  });

  it('give each alert a summary, a description and a runbook link to its own section', () => {
    for (const rule of rules) {
      expect(rule.annotations.summary.trim(), rule.alert).not.toBe('');
      expect(rule.annotations.description.trim(), rule.alert).not.toBe('');
      expect(rule.annotations.runbook_url, rule.alert).toBe(
        `${RUNBOOK_BASE_URL}#${rule.alert.toLowerCase()}`,
      );
      // GitHub makes the anchor "#vaultdown" from the heading "### VaultDown".
      expect(runbook, `docs/MONITORING.md lacks "### ${rule.alert}"`).toMatch(
        new RegExp(`^### ${rule.alert}$`, 'm'),
      );
    }
  });

  it('each have a case in alerts.test.yml where they fire and one where they stay silent', async () => {
    const cases = (await readRuleTests()).tests.flatMap((t) => t.alert_rule_test);
    for (const rule of rules) {
      const own = cases.filter((c) => c.alertname === rule.alert);
      expect(
        own.some((c) => (c.exp_alerts ?? []).length > 0),
        `${rule.alert} never fires`,
      ).toBe(true);
      expect(
        own.some((c) => (c.exp_alerts ?? []).length === 0),
        `${rule.alert} is never shown silent`,
      ).toBe(true);
    }
  });

  it('select only jobs that prometheus.yml scrapes', async () => {
    const jobs = new Set((await readPrometheusConfig()).scrape_configs.map((s) => s.job_name));
    for (const rule of rules) {
      for (const m of rule.expr.matchAll(/\bjob="([^"]*)"/g)) expect(jobs, rule.alert).toContain(m[1]);
    }
  });

  it('name a metric of their own service (vault_* or index_*) in every expression', () => {
    for (const rule of rules) {
      const prefix = `${rule.labels.service}_`;
      const metrics = [...promqlRefs(rule.expr).metrics];
      const isScrapeHealth =
        metrics.every((m) => m === 'up') && rule.expr.includes(`job="rune-${rule.labels.service}"`);
      expect(isScrapeHealth || metrics.some((m) => m.startsWith(prefix)), rule.alert).toBe(true);
    }
  });
});

describe('prometheus.yml', () => {
  it('scrapes the Vault and the index over HTTPS with a CA file and loads the alert rules', async () => {
    const config = await readPrometheusConfig();
    expect(config.rule_files).toEqual(['prometheus-alerts.yml']);
    for (const job of ['rune-vault', 'rune-index']) {
      const scrape = config.scrape_configs.find((s) => s.job_name === job);
      expect(scrape?.scheme, job).toBe('https');
      expect(scrape?.tls_config?.ca_file, job).toMatch(/\.crt$/);
    }
  });
});

const composeSchema = z.object({
  services: z.record(
    z.string(),
    z.object({
      image: z.string(),
      volumes: z.array(z.string()).default([]),
      ports: z.array(z.string()).default([]),
      environment: z.record(z.string(), z.string()).default({}),
    }),
  ),
  secrets: z.record(z.string(), z.object({ file: z.string() })).default({}),
});

describe('compose.yml and Grafana provisioning', () => {
  let compose: z.infer<typeof composeSchema>;

  beforeAll(async () => {
    compose = composeSchema.parse(parseYaml(await readFile(join(MONITORING_DIR, 'compose.yml'), 'utf8')));
  });

  /** host path → container path of a service's bind mounts. */
  const mounts = (service: string): Map<string, string> =>
    new Map(
      (compose.services[service]?.volumes ?? [])
        .filter((v) => v.startsWith('./'))
        .map((v) => {
          const [host = '', container = ''] = v.split(':');
          return [host, container];
        }),
    );

  it('runs pinned Prometheus and Grafana images, published on loopback only', () => {
    for (const name of ['prometheus', 'grafana']) {
      const service = compose.services[name];
      expect(service?.image, name).toMatch(/^[a-z/]+:v?\d+\.\d+\.\d+$/);
      for (const port of service?.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('mounts files that exist here, except the certificates and secrets the operator supplies', async () => {
    const operatorSupplied = new Set(['./certs', ...Object.values(compose.secrets).map((s) => s.file)]);
    for (const service of Object.keys(compose.services)) {
      for (const host of mounts(service).keys()) {
        if (operatorSupplied.has(host)) continue;
        await expect(access(join(MONITORING_DIR, host)), `${service}: ${host}`).resolves.toBeUndefined();
      }
    }
  });

  it('gives Prometheus the config and the alert rules where the config looks for them', () => {
    const prometheus = mounts('prometheus');
    const config = prometheus.get('./prometheus.yml');
    expect(config).toBe('/etc/prometheus/prometheus.yml');
    expect(prometheus.get('./prometheus-alerts.yml')).toBe(
      posix.join(posix.dirname(config ?? ''), 'prometheus-alerts.yml'),
    );
  });

  it('provisions the Prometheus datasource and loads the dashboard from where compose mounts it', async () => {
    const grafana = mounts('grafana');
    expect(compose.services.grafana?.environment.GF_SECURITY_ADMIN_PASSWORD__FILE).toMatch(
      /^\/run\/secrets\//,
    );
    const datasources = z
      .object({ datasources: z.array(z.object({ type: z.string(), url: z.string() })) })
      .parse(
        parseYaml(
          await readFile(join(MONITORING_DIR, 'grafana-provisioning/datasources/prometheus.yml'), 'utf8'),
        ),
      );
    expect(datasources.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    const providers = z
      .object({ providers: z.array(z.object({ type: z.string(), options: z.object({ path: z.string() }) })) })
      .parse(
        parseYaml(await readFile(join(MONITORING_DIR, 'grafana-provisioning/dashboards/rune.yml'), 'utf8')),
      );
    const dashboardPath = grafana.get('./grafana-dashboard.json') ?? '';
    expect(posix.dirname(dashboardPath)).toBe(providers.providers[0]?.options.path);
    expect(grafana.get('./grafana-provisioning/datasources')).toBe('/etc/grafana/provisioning/datasources');
    expect(grafana.get('./grafana-provisioning/dashboards')).toBe('/etc/grafana/provisioning/dashboards');
  });
});
