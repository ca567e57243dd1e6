/** Cumulative bucket counts of one Prometheus histogram, by upper bound in seconds (+Inf last). */
export interface HistogramSnapshot {
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
}

/** Reads one unlabelled histogram from a service's /metrics text. */
export async function scrapeHistogram(metricsUrl: string, name: string): Promise<HistogramSnapshot> {
  const res = await fetch(metricsUrl);
  if (res.status !== 200) throw new Error(`GET ${metricsUrl}: HTTP ${res.status}`);
  const text = await res.text();
  const bucket = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`);
  const pairs: [number, number][] = [];
  for (const line of text.split('\n')) {
    const m = bucket.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) {
      pairs.push([m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), Number(m[2])]);
    }
  }
  if (pairs.length === 0) throw new Error(`${metricsUrl} has no histogram ${name}`);
  pairs.sort((a, b) => a[0] - b[0]);
  return { bounds: pairs.map((p) => p[0]), counts: pairs.map((p) => p[1]) };
}

export interface HistogramQuantile {
  /** Observations between the two snapshots. */
  readonly count: number;
  /** Upper bound of the bucket holding the quantile: the quantile is at most this (ms). */
  readonly upperBoundMs: number;
  /** Prometheus histogram_quantile's estimate: linear within that bucket (ms). */
  readonly interpolatedMs: number;
}

/** The q-quantile (0..1) of the observations made between `before` and `after`. */
export function quantileBetween(
  before: HistogramSnapshot,
  after: HistogramSnapshot,
  q: number,
): HistogramQuantile {
  const counts = after.counts.map((c, i) => c - (before.counts[i] ?? 0));
  const count = counts.at(-1) ?? 0;
  if (count === 0) return { count, upperBoundMs: Number.NaN, interpolatedMs: Number.NaN };
  const rank = q * count;
  const i = counts.findIndex((c) => c >= rank);
  const upper = after.bounds[i] ?? Number.POSITIVE_INFINITY;
  const lower = i > 0 ? (after.bounds[i - 1] ?? 0) : 0;
  const below = i > 0 ? (counts[i - 1] ?? 0) : 0;
  const inBucket = (counts[i] ?? 0) - below;
  const interpolated =
    upper === Number.POSITIVE_INFINITY ? lower : lower + ((upper - lower) * (rank - below)) / inBucket;
  return { count, upperBoundMs: upper * 1000, interpolatedMs: interpolated * 1000 };
}
