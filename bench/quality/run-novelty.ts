import { similarity, type Embedder, type NoveltyThresholds, type TermStatsView } from '@rune/embed';
import { calibrateThresholds, noveltyAccuracy, type ProbeKind, type ScoredProbe } from './calibrate.js';
import type { NoveltyCase } from './eval-sets.js';

/** Novelty decisions look at the best of the top 3 recalled records. */
export const NOVELTY_TOP = 3;

/** Returns the texts of the top `k` stored records for `query`, best first. */
export type Searcher = (query: string, k: number) => Promise<string[]>;

export interface NoveltyResult {
  readonly probes: readonly (ScoredProbe & { readonly id: string })[];
  /** duplicate > evolution > unrelated by `similarity` to the original, per topic × length. */
  readonly ordering: { readonly held: number; readonly cases: number; readonly failed: readonly string[] };
  readonly calibrated: NoveltyThresholds;
  readonly accuracyCalibrated: ReturnType<typeof noveltyAccuracy>;
  readonly accuracyExported: ReturnType<typeof noveltyAccuracy>;
}

/**
 * rune's novelty protocol on a store holding every original: each duplicate, evolution and
 * unrelated probe is recalled (top 3), scored by `similarity` to the best of them, and classified.
 */
export async function runNovelty(
  cases: readonly NoveltyCase[],
  search: Searcher,
  stats: TermStatsView,
  exported: NoveltyThresholds,
): Promise<NoveltyResult> {
  const probes: (ScoredProbe & { id: string })[] = [];
  const failed: string[] = [];
  for (const c of cases) {
    for (const kind of ['duplicate', 'evolution', 'unrelated'] as const satisfies readonly ProbeKind[]) {
      const top = await search(c[kind], NOVELTY_TOP);
      const score = Math.max(0, ...top.map((t) => similarity(c[kind], t, stats)));
      probes.push({ id: `${c.id}:${kind}`, kind, score });
    }
    const [dup, evo, unrel] = [c.duplicate, c.evolution, c.unrelated].map((t) =>
      similarity(c.original, t, stats),
    );
    if (!((dup ?? 0) > (evo ?? 0) && (evo ?? 0) > (unrel ?? 0))) failed.push(c.id);
  }
  const calibrated = calibrateThresholds(probes);
  return {
    probes,
    ordering: { held: cases.length - failed.length, cases: cases.length, failed },
    calibrated,
    accuracyCalibrated: noveltyAccuracy(probes, calibrated),
    accuracyExported: noveltyAccuracy(probes, exported),
  };
}

/** The originals of every case, the store the probes are recalled against. */
export function noveltyStore(cases: readonly NoveltyCase[]): string[] {
  return cases.map((c) => c.original);
}

/** A plaintext searcher over `texts` by the embedder's own dot products (simulation, tests). */
export async function plaintextSearcher(embedder: Embedder, texts: readonly string[]): Promise<Searcher> {
  const docs = await Promise.all(texts.map((t) => embedder.embedDocument(t)));
  return async (query, k) => {
    const q = await embedder.embedQuery(query);
    return docs
      .map((d, i) => {
        let s = 0;
        for (let j = 0; j < d.length; j++) s += (d[j] ?? 0) * (q[j] ?? 0);
        return { i, s };
      })
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .slice(0, k)
      .map((x) => texts[x.i] ?? '');
  };
}
