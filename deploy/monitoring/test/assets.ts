import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** deploy/monitoring/, and the repository root the promtool commands run from. */
export const MONITORING_DIR = fileURLToPath(new URL('../', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const RUNBOOK_PATH = fileURLToPath(new URL('../../../docs/MONITORING.md', import.meta.url));
export const RUNBOOK_BASE_URL = 'https://github.com/rune/rune/blob/main/docs/MONITORING.md';

const alertRule = z.object({
  alert: z.string(),
  expr: z.string(),
  for: z.string().optional(),
  labels: z.object({
    severity: z.enum(['critical', 'warning', 'info']),
    service: z.enum(['vault', 'index']),
  }),
  annotations: z.object({ summary: z.string(), description: z.string(), runbook_url: z.string() }),
});
export type AlertRule = z.infer<typeof alertRule>;

const alertFile = z.object({
  groups: z.array(z.object({ name: z.string(), rules: z.array(alertRule) })),
});

export async function readAlertRules(): Promise<AlertRule[]> {
  const text = await readFile(new URL('../prometheus-alerts.yml', import.meta.url), 'utf8');
  return alertFile.parse(parseYaml(text)).groups.flatMap((g) => g.rules);
}

const ruleTestFile = z.object({
  rule_files: z.array(z.string()),
  tests: z.array(
    z.object({
      name: z.string(),
      alert_rule_test: z.array(
        z.object({
          eval_time: z.string(),
          alertname: z.string(),
          exp_alerts: z.array(z.object({ exp_labels: z.record(z.string(), z.string()) })).optional(),
        }),
      ),
    }),
  ),
});

export async function readRuleTests(): Promise<z.infer<typeof ruleTestFile>> {
  const text = await readFile(new URL('../alerts.test.yml', import.meta.url), 'utf8');
  return ruleTestFile.parse(parseYaml(text));
}

const scrapeConfig = z.object({
  global: z.object({ scrape_interval: z.string() }).optional(),
  rule_files: z.array(z.string()),
  scrape_configs: z.array(
    z.object({
      job_name: z.string(),
      scheme: z.string().optional(),
      tls_config: z.object({ ca_file: z.string() }).optional(),
    }),
  ),
});

export async function readPrometheusConfig(): Promise<z.infer<typeof scrapeConfig>> {
  const text = await readFile(new URL('../prometheus.yml', import.meta.url), 'utf8');
  return scrapeConfig.parse(parseYaml(text));
}

const datasourceRef = z.object({ type: z.string(), uid: z.string() });
const target = z.object({ expr: z.string(), refId: z.string(), datasource: datasourceRef.optional() });
const panel = z.object({
  id: z.number(),
  type: z.string(),
  title: z.string(),
  datasource: datasourceRef.optional(),
  gridPos: z.object({ h: z.number(), w: z.number(), x: z.number(), y: z.number() }),
  targets: z.array(target).optional(),
  panels: z.array(z.unknown()).optional(),
});
export type Panel = z.infer<typeof panel>;

const variable = z.object({
  name: z.string(),
  type: z.string(),
  query: z.union([z.string(), z.object({ query: z.string() })]).optional(),
  datasource: datasourceRef.optional(),
});

const dashboardSchema = z.object({
  uid: z.string(),
  title: z.string(),
  schemaVersion: z.number(),
  panels: z.array(panel),
  templating: z.object({ list: z.array(variable) }),
});
export type Dashboard = z.infer<typeof dashboardSchema>;

export async function readDashboard(): Promise<Dashboard> {
  const text = await readFile(new URL('../grafana-dashboard.json', import.meta.url), 'utf8');
  return dashboardSchema.parse(JSON.parse(text));
}

/** Every PromQL query of the dashboard's panels, with the panel it belongs to. */
export function dashboardQueries(dashboard: Dashboard): { panel: string; expr: string }[] {
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}

/** `label_values(metric, label)` queries of the dashboard's variables. */
export function variableQueries(dashboard: Dashboard): { name: string; selector: string; label: string }[] {
  return dashboard.templating.list.flatMap((v) => {
    if (v.type !== 'query' || v.query === undefined) return [];
    const text = typeof v.query === 'string' ? v.query : v.query.query;
    const m = /^label_values\((.+),\s*([a-zA-Z_]\w*)\)$/.exec(text);
    if (m === null) throw new Error(`variable ${v.name}: expected label_values(metric, label), got ${text}`);
    return [{ name: v.name, selector: m[1] ?? '', label: m[2] ?? '' }];
  });
}

/** Grafana variables replaced by values Prometheus accepts, for syntax checks. */
export function withGrafanaVariablesFilled(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__range', '1h')
    .replaceAll(/\$\{?\w+\}?/g, '.*');
}

export interface CommandResult {
  readonly code: number;
  readonly output: string;
}

const PROMTOOL_MISSING =
  "promtool is not installed: install Debian's `prometheus` package (sudo apt-get install prometheus), " +
  'which provides /usr/bin/promtool; these checks must not be skipped';

/** Runs promtool (from the repository root by default); a missing promtool fails the calling test. */
export function promtool(
  args: readonly string[],
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  const spawnOptions = { cwd: options.cwd ?? REPO_ROOT, env: options.env ?? process.env, timeout: 30_000 };
  return new Promise((resolve, reject) => {
    execFile('promtool', args, spawnOptions, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (err === null) {
        resolve({ code: 0, output });
      } else if (err.code === 'ENOENT') {
        reject(new Error(PROMTOOL_MISSING));
      } else {
        resolve({ code: typeof err.code === 'number' ? err.code : 1, output });
      }
    });
  });
}
