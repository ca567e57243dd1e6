import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { flag, intOpt, parse, stringOpt } from '../args.js';
import { usageError } from '../cli-error.js';
import { CsvWriter } from '../loadtest/csv.js';
import { prepareOutDir } from '../loadtest/out-dir.js';
import { LiveView, shouldColor } from '../loadtest/live-view.js';
import { renderReport } from '../loadtest/report-html.js';
import { type RunResult, runLoad } from '../loadtest/runner.js';
import {
  MAX_USERS,
  SCENARIO_NAMES,
  type ScenarioName,
  buildScenario,
  isScenarioName,
  parseDuration,
  parseMix,
  totalDurationMs,
} from '../loadtest/scenario.js';
import { buildSummary, formatSummary, summaryJson } from '../loadtest/summary.js';
import { resolveTarget } from '../loadtest/target.js';

export const LOADTEST_HELP = `rune loadtest — load-test a Vault and index with virtual members doing real captures and recalls

Usage: rune loadtest [SCENARIO] [--users N] [--duration D] [--ramp D] [--mix capture=30,recall=70]
                     [--scale F] [--out DIR] [--max-requests N] [--json]
                     [--config FILE | --vault-url URL --index-url URL --token T [--index-id ID] [--ca FILE]]

Scenarios (users, duration at scale 1):
  smoke       5 users, 1 min              (the default)
  baseline    25 users, 5 min, 30 s ramp
  sustained   50 users, 10 min, 1 min ramp
  stress      20→40→60→80→100 users, 3 min each: reports the breaking point
  spike       10 users 2 min → 100 users 3 min → 10 users 2 min
  custom      --users N --duration D [--ramp D]

  --users N         peak virtual users (other stages keep their proportion); 1..${MAX_USERS}
  --duration D      total duration (30s, 2m, 500ms); stages shrink or grow in proportion
  --ramp D          ramp time at the start of each stage
  --mix SPEC        relative weights of captures and recalls (default capture=30,recall=70)
  --scale F         multiply every duration by F (0.01 = a hundredth)
  --out DIR         report folder (default ./loadtest-SCENARIO-TIMESTAMP); must not hold a report
  --max-requests N  stop after N operations whatever the profile (default 1000000)
  --json            print summary.json on stdout instead of the console summary
  --vault-url URL   the Vault (or VAULT_URL); needed to target a non-loopback Vault from a config
  --index-url URL   the index (or INDEX_URL), with a token
  --token T         a member token (or VAULT_TOKEN, which keeps it out of ps)
  --index-id ID     the index (default team), with a token
  --ca FILE         PEM of a private CA, with a token
  --config FILE     member config (default: RUNE_CONFIG, else the standard location)

Every virtual user is a client of the member whose token it uses: give that member a role with
high rate limits (docs/LOADTEST.md), or 429s (reported apart from errors) pace the run.
Each capture stores a real record (~650 KB at the index): load-test a scratch deployment.

Example:
  rune loadtest smoke --duration 20s --users 3 --out /tmp/lt`;

const DEFAULT_MAX_OPERATIONS = 1_000_000;

export async function loadtest(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parse('loadtest', argv, {
    users: { type: 'string' },
    duration: { type: 'string' },
    ramp: { type: 'string' },
    mix: { type: 'string' },
    scale: { type: 'string' },
    out: { type: 'string' },
    'max-requests': { type: 'string' },
    json: { type: 'boolean' },
    'vault-url': { type: 'string' },
    'index-url': { type: 'string' },
    token: { type: 'string' },
    'index-id': { type: 'string' },
    ca: { type: 'string' },
    config: { type: 'string' },
  });
  if (parsed.values.help === true) {
    process.stdout.write(`${LOADTEST_HELP}\n`);
    return 0;
  }
  if (parsed.positionals.length > 1)
    throw usageError(`loadtest: unexpected argument "${parsed.positionals[1] ?? ''}"`);
  const name = parsed.positionals[0] ?? 'smoke';
  if (!isScenarioName(name)) {
    throw usageError(`loadtest: unknown scenario "${name}"`, `choose one of ${SCENARIO_NAMES.join(', ')}`);
  }
  const scenario = buildScenario(name, scenarioOptions(parsed));
  const maxOperations = intOpt(parsed, 'loadtest', 'max-requests', DEFAULT_MAX_OPERATIONS, 1, 100_000_000);
  const outDir = resolve(stringOpt(parsed, 'out') ?? defaultOutDir(name));

  const target = await resolveTarget({
    env,
    ...definedEntry('configFlag', stringOpt(parsed, 'config')),
    ...definedEntry('vaultUrlFlag', stringOpt(parsed, 'vault-url')),
    ...definedEntry('tokenFlag', stringOpt(parsed, 'token')),
    ...definedEntry('indexUrlFlag', stringOpt(parsed, 'index-url')),
    ...definedEntry('indexIdFlag', stringOpt(parsed, 'index-id')),
    ...definedEntry('caFileFlag', stringOpt(parsed, 'ca')),
  });
  await prepareOutDir(outDir);
  const files = {
    html: join(outDir, 'report.html'),
    csv: join(outDir, 'requests.csv'),
    json: join(outDir, 'summary.json'),
  };

  const totalMs = totalDurationMs(scenario.stages);
  const isTty = process.stderr.isTTY;
  const live = new LiveView({
    write: (text) => process.stderr.write(text),
    isTty,
    color: shouldColor(isTty, env),
    ...(isTty ? { columns: process.stderr.columns } : {}),
  });
  const csv = await CsvWriter.open(files.csv);
  const abort = new AbortController();
  const onSignal = () => {
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result: RunResult;
  const progress = { isStarted: false };
  try {
    result = await runLoad(
      {
        scenario,
        config: target.config,
        maxOperations,
        seed: Date.now() >>> 0,
        sampleIntervalMs: Math.round(Math.min(2000, Math.max(250, totalMs / 60))),
        onRecord: (r) => {
          csv.write(r);
        },
        signal: abort.signal,
        env,
        log: (line) => process.stderr.write(`rune loadtest: ${line}\n`),
      },
      (handle) => {
        progress.isStarted = true;
        live.start(
          () => ({
            elapsedMs: handle.elapsedMs(),
            totalMs,
            users: handle.users(),
            operations: handle.operations(),
            recent: handle.recent(),
          }),
          Math.min(10_000, Math.max(1000, totalMs / 10)),
        );
      },
    );
  } catch (err: unknown) {
    // Nothing was sent (a client could not connect): leave no half report to block a retry.
    if (!progress.isStarted) {
      await csv.close();
      await rm(files.csv, { force: true });
    }
    throw err;
  } finally {
    live.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await csv.close();
  }
  const summary = buildSummary(
    scenario,
    {
      vaultUrl: target.config.vaultUrl,
      indexUrl: target.config.indexUrl,
      indexId: target.config.indexId,
      source: target.source,
    },
    result,
  );
  await writeFile(files.json, summaryJson(summary), { flag: 'wx' });
  await writeFile(files.html, renderReport(summary, result.records, result.metrics), { flag: 'wx' });
  if (result.scrapeFailures > 0) {
    process.stderr.write(
      `rune loadtest: ${result.scrapeFailures} /metrics scrapes failed (${result.lastScrapeError ?? ''}); server charts have gaps\n`,
    );
  }
  process.stdout.write(flag(parsed, 'json') ? summaryJson(summary) : formatSummary(summary, files));
  return 0;
}

function scenarioOptions(parsed: Parameters<typeof stringOpt>[0]) {
  const users = stringOpt(parsed, 'users');
  const duration = stringOpt(parsed, 'duration');
  const ramp = stringOpt(parsed, 'ramp');
  const scale = stringOpt(parsed, 'scale');
  const mix = stringOpt(parsed, 'mix');
  return {
    ...(users === undefined ? {} : { users: intOpt(parsed, 'loadtest', 'users', 1, 1, MAX_USERS) }),
    ...(duration === undefined ? {} : { durationMs: parseDuration(duration, 'duration') }),
    ...(ramp === undefined ? {} : { rampMs: rampOf(ramp) }),
    ...(scale === undefined ? {} : { scale: scaleOf(scale) }),
    ...(mix === undefined ? {} : { mix: parseMix(mix) }),
  };
}

function rampOf(text: string): number {
  return /^0+(?:ms|s|m|h)?$/.test(text.trim()) ? 0 : parseDuration(text, 'ramp');
}

function scaleOf(text: string): number {
  const n = Number(text);
  if (!/^\d*\.?\d+$/.test(text) || !(n > 0) || n > 100) {
    throw usageError(`loadtest: --scale must be a number above 0 and at most 100, got "${text}"`);
  }
  return n;
}

function definedEntry<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

function defaultOutDir(name: ScenarioName): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `loadtest-${name}-${stamp}`;
}
