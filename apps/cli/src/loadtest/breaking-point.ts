import type { Stage } from './scenario.js';
import { type LatencySummary, type Sample, summarise } from './stats.js';

/** A stage breaks when more than this share of its operations fail (rate-limited ones excluded). */
export const BREAK_ERROR_RATE = 0.05;
/** … or when its p95 exceeds this multiple of the first stage's p95. */
export const BREAK_P95_FACTOR = 3;

export interface StageResult extends LatencySummary {
  readonly index: number;
  readonly users: number;
  /** Operations started after the stage's ramp, per second. */
  readonly perSecond: number;
}

export interface BreakingPoint {
  readonly stage: number;
  readonly users: number;
  readonly reason: string;
}

/**
 * Each stage's figures, over the operations that started after its ramp (while the user count
 * was settled). The ramp window of a stage with no settled part is used whole.
 */
export function stageResults(stages: readonly Stage[], samples: readonly Sample[]): StageResult[] {
  let start = 0;
  return stages.map((stage, index) => {
    const end = start + stage.durationMs;
    const settled = stage.rampMs < stage.durationMs ? start + stage.rampMs : start;
    start = end;
    const inStage = samples.filter((s) => s.startMs >= settled && s.startMs < end);
    const summary = summarise(inStage);
    return { ...summary, index, users: stage.users, perSecond: summary.count / ((end - settled) / 1000) };
  });
}

/**
 * The first stage where the service stops keeping up: error rate above BREAK_ERROR_RATE, or p95
 * above BREAK_P95_FACTOR × the first stage's p95. A stage with operations but none successful
 * breaks too. Undefined when every stage held (or there is only one).
 */
export function findBreakingPoint(results: readonly StageResult[]): BreakingPoint | undefined {
  const first = results[0];
  if (first === undefined) return undefined;
  const baseP95 = first.p95Ms;
  for (const r of results) {
    if (r.count === 0) continue;
    if (r.errorRate > BREAK_ERROR_RATE) {
      return {
        stage: r.index,
        users: r.users,
        reason: `error rate ${(r.errorRate * 100).toFixed(1)} % > ${BREAK_ERROR_RATE * 100} %`,
      };
    }
    if (r.ok === 0 && r.rateLimited < r.count) {
      return { stage: r.index, users: r.users, reason: 'no operation succeeded' };
    }
    if (r.index > 0 && Number.isFinite(baseP95) && r.p95Ms > BREAK_P95_FACTOR * baseP95) {
      return {
        stage: r.index,
        users: r.users,
        reason: `p95 ${r.p95Ms.toFixed(0)} ms > ${BREAK_P95_FACTOR} × first stage's ${baseP95.toFixed(0)} ms`,
      };
    }
  }
  return undefined;
}
