import {
  bucketsOf,
  parsePrometheusText,
  quantileDetailBetween,
  type Buckets,
} from '../../apps/cli/src/loadtest/prometheus-text.js';

/** Cumulative bucket counts of one Prometheus histogram, by upper bound in seconds (+Inf last). */
export type HistogramSnapshot = Buckets;

/** Reads one histogram (summed over its labels) from a service's /metrics text. */
export async function scrapeHistogram(metricsUrl: string, name: string): Promise<HistogramSnapshot> {
  const res = await fetch(metricsUrl);
  if (res.status !== 200) throw new Error(`GET ${metricsUrl}: HTTP ${res.status}`);
  const buckets = bucketsOf(parsePrometheusText(await res.text()), name);
  if (buckets === undefined) throw new Error(`${metricsUrl} has no histogram ${name}`);
  return buckets;
}

export interface HistogramQuantile {
  /** Observations between the two snapshots. */
  readonly count: number;
  /** Upper bound of the bucket holding the quantile: the quantile is at most this (ms). */
  readonly upperBoundMs: number;
  /** Prometheus histogram_quantile's estimate: linear within that bucket (ms). */
  readonly interpolatedMs: number;
}

/** The q-quantile (0..1) of the observations made between `before` and `after`, in ms. */
export function quantileBetween(
  before: HistogramSnapshot,
  after: HistogramSnapshot,
  q: number,
): HistogramQuantile {
  const { count, upperBound, estimate } = quantileDetailBetween(before, after, q);
  return { count, upperBoundMs: upperBound * 1000, interpolatedMs: estimate * 1000 };
}
