import { usageError } from '../cli-error.js';

/** One stage of a load profile: `users` virtual users for `durationMs`, reached linearly over `rampMs`. */
export interface Stage {
  readonly users: number;
  readonly durationMs: number;
  /** Ramp from the previous stage's users (0 before the first) to `users`, inside `durationMs`. */
  readonly rampMs: number;
}

export interface Mix {
  /** Relative weights; at least one is positive. */
  readonly capture: number;
  readonly recall: number;
}

export interface Scenario {
  readonly name: ScenarioName;
  readonly stages: readonly Stage[];
  readonly mix: Mix;
  /** Whether the console summary reports a breaking point (stress). */
  readonly isStepped: boolean;
}

export const SCENARIO_NAMES = ['smoke', 'baseline', 'sustained', 'stress', 'spike', 'custom'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export const DEFAULT_MIX: Mix = { capture: 30, recall: 70 };
/** A virtual user is an open client with its own connections: beyond this, run several processes. */
export const MAX_USERS = 1000;
export const MAX_DURATION_MS = 24 * 3600 * 1000;

const S = 1000;
const M = 60 * S;

/** The reference product's profiles at scale 1 (docs/LOADTEST.md). */
const PRESETS: Readonly<Record<Exclude<ScenarioName, 'custom'>, readonly Stage[]>> = {
  smoke: [{ users: 5, durationMs: 1 * M, rampMs: 0 }],
  baseline: [{ users: 25, durationMs: 5 * M, rampMs: 30 * S }],
  sustained: [{ users: 50, durationMs: 10 * M, rampMs: 1 * M }],
  // Five equal steps to 100 users; each step's first 30 s is its ramp (excluded from its figures).
  stress: [20, 40, 60, 80, 100].map((users) => ({ users, durationMs: 3 * M, rampMs: 30 * S })),
  spike: [
    { users: 10, durationMs: 2 * M, rampMs: 0 },
    { users: 100, durationMs: 3 * M, rampMs: 0 },
    { users: 10, durationMs: 2 * M, rampMs: 0 },
  ],
};

export interface ScenarioOptions {
  readonly users?: number;
  readonly durationMs?: number;
  readonly rampMs?: number;
  readonly scale?: number;
  readonly mix?: Mix;
}

/**
 * The stages a run follows. `durationMs` fixes the total (every stage shrinks or grows in
 * proportion), `scale` multiplies every duration; `users` sets the peak (other stages keep their
 * proportion to it, at least 1); `rampMs` replaces each stage's ramp (clamped to the stage).
 */
export function buildScenario(name: ScenarioName, options: ScenarioOptions = {}): Scenario {
  let stages: Stage[];
  if (name === 'custom') {
    if (options.users === undefined || options.durationMs === undefined) {
      throw usageError('loadtest: the custom scenario needs --users N and --duration D');
    }
    stages = [{ users: options.users, durationMs: options.durationMs, rampMs: options.rampMs ?? 0 }];
  } else {
    stages = PRESETS[name].map((s) => ({ ...s }));
    if (options.durationMs !== undefined) stages = fitTotal(stages, options.durationMs);
    if (options.users !== undefined) stages = withPeak(stages, options.users);
    if (options.rampMs !== undefined) stages = stages.map((s) => ({ ...s, rampMs: options.rampMs ?? 0 }));
  }
  if (options.scale !== undefined) stages = scaleStages(stages, options.scale);
  stages = stages.map((s) => ({ ...s, rampMs: Math.min(s.rampMs, s.durationMs) }));
  return { name, stages, mix: options.mix ?? DEFAULT_MIX, isStepped: name === 'stress' };
}

export function totalDurationMs(stages: readonly Stage[]): number {
  return stages.reduce((sum, s) => sum + s.durationMs, 0);
}

export function peakUsers(stages: readonly Stage[]): number {
  return stages.reduce((max, s) => Math.max(max, s.users), 0);
}

/** Users wanted `elapsedMs` into the run: linear inside each stage's ramp, 0 after the end. */
export function usersAt(stages: readonly Stage[], elapsedMs: number): number {
  let start = 0;
  let previous = 0;
  for (const stage of stages) {
    const into = elapsedMs - start;
    if (into < stage.durationMs) {
      if (stage.rampMs > 0 && into < stage.rampMs) {
        return Math.round(previous + ((stage.users - previous) * into) / stage.rampMs);
      }
      return stage.users;
    }
    start += stage.durationMs;
    previous = stage.users;
  }
  return 0;
}

/** Index of the stage running `elapsedMs` into the run (the last one after the end). */
export function stageAt(stages: readonly Stage[], elapsedMs: number): number {
  let end = 0;
  for (let i = 0; i < stages.length; i++) {
    end += stages[i]?.durationMs ?? 0;
    if (elapsedMs < end) return i;
  }
  return Math.max(0, stages.length - 1);
}

function fitTotal(stages: readonly Stage[], totalMs: number): Stage[] {
  return scaleStages(stages, totalMs / totalDurationMs(stages));
}

function scaleStages(stages: readonly Stage[], factor: number): Stage[] {
  return stages.map((s) => ({
    users: s.users,
    durationMs: Math.max(1, Math.round(s.durationMs * factor)),
    rampMs: Math.round(s.rampMs * factor),
  }));
}

function withPeak(stages: readonly Stage[], peak: number): Stage[] {
  const current = peakUsers(stages);
  return stages.map((s) => ({ ...s, users: Math.max(1, Math.round((s.users * peak) / current)) }));
}

/** "90s", "2m", "1h", "500ms" or a bare number of seconds, to milliseconds (> 0). */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const unit = { ms: 1, s: S, m: M, h: 60 * M } as const;
  const ms = m === null ? Number.NaN : Number(m[1]) * unit[(m[2] ?? 's') as keyof typeof unit];
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_DURATION_MS) {
    throw usageError(
      `loadtest: --${option} must be a duration such as 30s, 2m or 500ms (at most 24h), got "${text}"`,
    );
  }
  return Math.round(ms);
}

/** "capture=30,recall=70": relative weights of the two operations. */
export function parseMix(text: string): Mix {
  const weights: Record<string, number> = { capture: 0, recall: 0 };
  for (const part of text.split(',')) {
    const m = /^\s*(capture|recall)\s*=\s*(\d{1,6})\s*$/.exec(part);
    if (m?.[1] === undefined || m[2] === undefined) {
      throw usageError(
        `loadtest: --mix must look like capture=30,recall=70, got "${text}"`,
        'weights are non-negative integers; name capture, recall or both',
      );
    }
    weights[m[1]] = Number(m[2]);
  }
  const mix = { capture: weights.capture ?? 0, recall: weights.recall ?? 0 };
  if (mix.capture + mix.recall === 0) throw usageError('loadtest: --mix needs a positive weight');
  return mix;
}

export function isScenarioName(text: string): text is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(text);
}
