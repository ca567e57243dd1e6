import { type BreakingPoint, type StageResult, findBreakingPoint, stageResults } from './breaking-point.js';
import type { RunResult } from './runner.js';
import type { Scenario } from './scenario.js';
import { type LatencySummary, OPS, type Op, summarise } from './stats.js';

export interface Summary {
  readonly scenario: Scenario;
  readonly target: {
    readonly vaultUrl: string;
    readonly indexUrl: string;
    readonly indexId: string;
    readonly source: string;
  };
  readonly startedAt: string;
  readonly durationMs: number;
  readonly stoppedBy: RunResult['stoppedBy'];
  /** Operations recorded: one per row of requests.csv. */
  readonly operations: number;
  /** Operations per second over the run (all outcomes), and successful ones. */
  readonly perSecond: number;
  readonly okPerSecond: number;
  readonly total: LatencySummary;
  readonly byOp: Readonly<Record<Op, LatencySummary>>;
  readonly stages: readonly StageResult[];
  /** Stress only: the first stage that broke (docs/LOADTEST.md), null when all held. */
  readonly breakingPoint: BreakingPoint | null;
  readonly server: {
    /** HTTP requests each service counted during the run, by route template (its /metrics). */
    readonly requests: RunResult['serverRequests'];
    readonly decryption: RunResult['decryption'];
    readonly scrapes: number;
    readonly scrapeFailures: number;
  };
}

export function buildSummary(scenario: Scenario, target: Summary['target'], run: RunResult): Summary {
  const seconds = Math.max(run.elapsedMs, 1) / 1000;
  const total = summarise(run.records);
  const byOp = Object.fromEntries(
    OPS.map((op) => [op, summarise(run.records.filter((r) => r.op === op))]),
  ) as Record<Op, LatencySummary>;
  const stages = stageResults(scenario.stages, run.records);
  return {
    scenario,
    target,
    startedAt: new Date(run.startedAtMs).toISOString(),
    durationMs: Math.round(run.elapsedMs),
    stoppedBy: run.stoppedBy,
    operations: run.records.length,
    perSecond: total.count / seconds,
    okPerSecond: total.ok / seconds,
    total,
    byOp,
    stages,
    breakingPoint: scenario.isStepped ? (findBreakingPoint(stages) ?? null) : null,
    server: {
      requests: run.serverRequests,
      decryption: run.decryption,
      scrapes: run.metrics.length,
      scrapeFailures: run.scrapeFailures,
    },
  };
}

/** JSON with NaN and infinities as null (JSON has neither). */
export function summaryJson(summary: Summary): string {
  return `${JSON.stringify(summary, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}

const f0 = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '-');
const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
const pct = (v: number) => `${(v * 100).toFixed(2)} %`;

/** The console summary: throughput, per-op percentiles, error and 429 counts, breaking point. */
export function formatSummary(s: Summary, files: { html: string; csv: string; json: string }): string {
  const users = s.scenario.stages.map((st) => st.users).join('→');
  const lines = [
    `rune loadtest ${s.scenario.name}: ${users} virtual users, ${(s.durationMs / 1000).toFixed(1)} s, ` +
      `${s.operations} operations (${f1(s.perSecond)}/s, ${f1(s.okPerSecond)}/s ok)` +
      (s.stoppedBy === 'profile' ? '' : `, stopped early (${s.stoppedBy})`),
    `errors ${s.total.errors} (${pct(s.total.errorRate)}), rate-limited ${s.total.rateLimited} (${pct(s.total.rateLimitedRate)})`,
    '',
    `${'op'.padEnd(8)}${'count'.padStart(8)}${'ok'.padStart(8)}${'errors'.padStart(8)}${'429'.padStart(6)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}`,
    ...[...OPS.map((op) => [op, s.byOp[op]] as const), ['all', s.total] as const].map(
      ([name, r]) =>
        `${name.padEnd(8)}${String(r.count).padStart(8)}${String(r.ok).padStart(8)}${String(r.errors).padStart(8)}` +
        `${String(r.rateLimited).padStart(6)}${f0(r.p50Ms).padStart(9)}${f0(r.p95Ms).padStart(9)}${f0(r.p99Ms).padStart(9)}`,
    ),
    '',
    s.server.decryption.count > 0
      ? `Vault decryption: ${s.server.decryption.count} results, mean ${f1(s.server.decryption.meanMs)} ms, p95 ${f1(s.server.decryption.p95Ms)} ms (from /metrics)`
      : `Vault decryption: no figures (${s.server.scrapeFailures > 0 ? '/metrics unreachable' : 'no recalls decrypted'})`,
  ];
  if (s.scenario.isStepped) {
    const bp = s.breakingPoint;
    lines.push(
      bp === null
        ? 'breaking point: none, every stage held'
        : `breaking point: stage ${bp.stage + 1} (${bp.users} users): ${bp.reason}`,
    );
  }
  if (s.total.rateLimited > 0) {
    lines.push('note: 429s are the member role’s rate limit, not service failures: see docs/LOADTEST.md');
  }
  lines.push('', `report  ${files.html}`, `csv     ${files.csv}`, `summary ${files.json}`);
  return `${lines.join('\n')}\n`;
}
