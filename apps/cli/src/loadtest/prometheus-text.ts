/** One series of a Prometheus text exposition. */
export interface Series {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text format (comments skipped, unparsable lines ignored). */
export function parsePrometheusText(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line.trim());
    if (m?.[1] === undefined || m[3] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) {
      if (l[1] !== undefined && l[2] !== undefined) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    }
    const value = m[3] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[3]);
    out.push({ name: m[1], labels, value });
  }
  return out;
}

/** Sum of every series named `name` whose labels include `match`; undefined when none. */
export function sumOf(
  series: readonly Series[],
  name: string,
  match: Readonly<Record<string, string>> = {},
): number | undefined {
  let total: number | undefined;
  for (const s of series) {
    if (s.name !== name) continue;
    if (!Object.entries(match).every(([k, v]) => s.labels[k] === v)) continue;
    total = (total ?? 0) + s.value;
  }
  return total;
}

/** Cumulative bucket counts of a histogram (summed over its other labels), by upper bound. */
export interface Buckets {
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
}

export function bucketsOf(series: readonly Series[], name: string): Buckets | undefined {
  const byBound = new Map<number, number>();
  for (const s of series) {
    if (s.name !== `${name}_bucket` || s.labels.le === undefined) continue;
    const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
    byBound.set(le, (byBound.get(le) ?? 0) + s.value);
  }
  if (byBound.size === 0) return undefined;
  const bounds = [...byBound.keys()].sort((a, b) => a - b);
  return { bounds, counts: bounds.map((b) => byBound.get(b) ?? 0) };
}

/** Where a quantile of the observations between two snapshots falls. */
export interface QuantileDetail {
  /** Observations between the snapshots. */
  readonly count: number;
  /** Upper bound of the bucket holding the quantile: the quantile is at most this (NaN when empty). */
  readonly upperBound: number;
  /** Prometheus histogram_quantile's estimate: linear inside that bucket (NaN when empty). */
  readonly estimate: number;
}

/** The q-quantile (0..1) of the observations made between `before` and `after`, with its bucket. */
export function quantileDetailBetween(
  before: Buckets | undefined,
  after: Buckets,
  q: number,
): QuantileDetail {
  const counts = after.counts.map((c, i) => c - (before?.counts[i] ?? 0));
  const count = counts.at(-1) ?? 0;
  if (count <= 0) return { count: 0, upperBound: Number.NaN, estimate: Number.NaN };
  const rank = q * count;
  const i = counts.findIndex((c) => c >= rank);
  const upper = after.bounds[i] ?? Number.POSITIVE_INFINITY;
  const lower = i > 0 ? (after.bounds[i - 1] ?? 0) : 0;
  const below = i > 0 ? (counts[i - 1] ?? 0) : 0;
  const inBucket = (counts[i] ?? 0) - below;
  const estimate =
    upper === Number.POSITIVE_INFINITY || inBucket <= 0
      ? lower
      : lower + ((upper - lower) * (rank - below)) / inBucket;
  return { count, upperBound: upper, estimate };
}

/**
 * Prometheus histogram_quantile over the observations made between two snapshots: linear inside
 * the bucket holding the rank; NaN when nothing was observed.
 */
export function quantileBetween(before: Buckets | undefined, after: Buckets, q: number): number {
  return quantileDetailBetween(before, after, q).estimate;
}

/** Counter values by one label (e.g. requests by endpoint), over every other label. */
export function byLabel(series: readonly Series[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of series) {
    if (s.name !== name) continue;
    const key = s.labels[label] ?? '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}
