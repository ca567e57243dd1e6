/** What one operation (a capture or a recall, each several HTTP requests) ended as. */
export const Outcome = {
  OK: 'ok',
  /** The Vault answered 429: the member's role limit, not a fault of the service. */
  RATE_LIMITED: 'rate_limited',
  ERROR: 'error',
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export const OPS = ['capture', 'recall'] as const;
export type Op = (typeof OPS)[number];

/** One operation as measured by a virtual user. */
export interface Sample {
  /** Start, ms since the run started (monotonic). */
  readonly startMs: number;
  readonly latencyMs: number;
  readonly op: Op;
  readonly outcome: Outcome;
}

/**
 * Nearest-rank percentile: the smallest value with at least `q` (0..1] of the values at or below
 * it. `sorted` must be ascending; NaN when empty.
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? Number.NaN;
}

export interface LatencySummary {
  readonly count: number;
  readonly ok: number;
  readonly rateLimited: number;
  readonly errors: number;
  /** errors / count (rate-limited operations are not errors), 0 when empty. */
  readonly errorRate: number;
  readonly rateLimitedRate: number;
  /** Successful operations only, ms. */
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

/** Counts and latency percentiles of successful operations. */
export function summarise(samples: readonly Sample[]): LatencySummary {
  const latencies: number[] = [];
  let rateLimited = 0;
  let errors = 0;
  for (const s of samples) {
    if (s.outcome === Outcome.OK) latencies.push(s.latencyMs);
    else if (s.outcome === Outcome.RATE_LIMITED) rateLimited++;
    else errors++;
  }
  latencies.sort((a, b) => a - b);
  const count = samples.length;
  return {
    count,
    ok: latencies.length,
    rateLimited,
    errors,
    errorRate: count === 0 ? 0 : errors / count,
    rateLimitedRate: count === 0 ? 0 : rateLimited / count,
    p50Ms: percentile(latencies, 0.5),
    p95Ms: percentile(latencies, 0.95),
    p99Ms: percentile(latencies, 0.99),
    meanMs: latencies.length === 0 ? Number.NaN : latencies.reduce((a, b) => a + b, 0) / latencies.length,
    maxMs: latencies.length === 0 ? Number.NaN : (latencies.at(-1) ?? Number.NaN),
  };
}

export interface TimeBucket extends LatencySummary {
  /** Bucket start, ms since the run started. */
  readonly startMs: number;
  /** Operations finished per second in this bucket (all outcomes). */
  readonly perSecond: number;
  readonly okPerSecond: number;
}

/** Samples grouped by the bucket their operation started in, `bucketMs` wide, covering `totalMs`. */
export function bucketise(samples: readonly Sample[], totalMs: number, bucketMs: number): TimeBucket[] {
  const n = Math.max(1, Math.ceil(totalMs / bucketMs));
  const groups: Sample[][] = Array.from({ length: n }, () => []);
  for (const s of samples) groups[Math.min(n - 1, Math.max(0, Math.floor(s.startMs / bucketMs)))]?.push(s);
  return groups.map((group, i) => {
    const summary = summarise(group);
    const seconds = bucketMs / 1000;
    return {
      ...summary,
      startMs: i * bucketMs,
      perSecond: summary.count / seconds,
      okPerSecond: summary.ok / seconds,
    };
  });
}

/** A chart bucket width giving about `target` points over `totalMs`, rounded to a readable step. */
export function chartBucketMs(totalMs: number, target = 60): number {
  const steps = [250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000];
  return steps.find((s) => totalMs / s <= target) ?? 60_000;
}
