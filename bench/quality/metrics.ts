/** Rank metrics of a retrieval run; ranks are 1-based, undefined when not retrieved. */
export interface RankMetrics {
  readonly queries: number;
  readonly hit1: number;
  readonly hit5: number;
  /** Share with a relevant doc in the top 10: what a top-10 re-rank can reach at best. */
  readonly hit10: number;
  /** Mean reciprocal rank of the first relevant doc within the top 10 (0 beyond it). */
  readonly mrr: number;
}

/** Recall's member cap: a member sees at most 10 records, so MRR is MRR@10 throughout. */
export const TOP_K = 10;

export function rankMetrics(ranks: readonly (number | undefined)[]): RankMetrics {
  let hit1 = 0;
  let hit5 = 0;
  let hit10 = 0;
  let rr = 0;
  for (const rank of ranks) {
    if (rank === undefined || rank > TOP_K) continue;
    if (rank === 1) hit1++;
    if (rank <= 5) hit5++;
    hit10++;
    rr += 1 / rank;
  }
  const n = ranks.length;
  return { queries: n, hit1: hit1 / n, hit5: hit5 / n, hit10: hit10 / n, mrr: rr / n };
}

/** 1-based rank of the first id in `ranked` that is relevant. */
export function firstRelevantRank(
  ranked: readonly string[],
  relevant: readonly string[],
): number | undefined {
  const i = ranked.findIndex((id) => relevant.includes(id));
  return i < 0 ? undefined : i + 1;
}

/** Pools several runs' metrics weighting each by its query count. */
export function poolMetrics(parts: readonly RankMetrics[]): RankMetrics {
  const queries = parts.reduce((s, p) => s + p.queries, 0);
  const mean = (f: (p: RankMetrics) => number) => parts.reduce((s, p) => s + f(p) * p.queries, 0) / queries;
  return {
    queries,
    hit1: mean((p) => p.hit1),
    hit5: mean((p) => p.hit5),
    hit10: mean((p) => p.hit10),
    mrr: mean((p) => p.mrr),
  };
}
