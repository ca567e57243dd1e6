import { classifyNovelty, type NoveltyClass, type NoveltyThresholds } from '@rune/embed';

/** What a probe of the novelty set is, and so which class is right for it. */
export type ProbeKind = 'duplicate' | 'evolution' | 'unrelated';

export interface ScoredProbe {
  readonly kind: ProbeKind;
  /** `similarity` of the probe to the best of its top-3 recalled records. */
  readonly score: number;
}

/** Right when a duplicate is a near-duplicate, an evolution an evolution, an unrelated text new (related or novel). */
export function isCorrect(kind: ProbeKind, cls: NoveltyClass): boolean {
  if (kind === 'duplicate') return cls === 'near-duplicate';
  if (kind === 'evolution') return cls === 'evolution';
  return cls === 'related' || cls === 'novel';
}

export function noveltyAccuracy(
  probes: readonly ScoredProbe[],
  thresholds: NoveltyThresholds,
): { correct: number; total: number; confusion: Record<ProbeKind, Record<NoveltyClass, number>> } {
  const empty = (): Record<NoveltyClass, number> => ({
    'near-duplicate': 0,
    evolution: 0,
    related: 0,
    novel: 0,
  });
  const confusion: Record<ProbeKind, Record<NoveltyClass, number>> = {
    duplicate: empty(),
    evolution: empty(),
    unrelated: empty(),
  };
  let correct = 0;
  for (const p of probes) {
    const cls = classifyNovelty(p.score, thresholds);
    confusion[p.kind][cls] += 1;
    if (isCorrect(p.kind, cls)) correct++;
  }
  return { correct, total: probes.length, confusion };
}

/**
 * The cut between `above` scores (should land at or over it) and `below` ones that misplaces the
 * fewest, at the midpoint of the widest gap among the best cuts.
 */
export function bestCut(above: readonly number[], below: readonly number[]): number {
  const candidates = [...above, ...below].sort((a, b) => a - b);
  let best = { errors: Number.POSITIVE_INFINITY, cut: 0, gap: -1 };
  for (let i = 0; i + 1 < candidates.length; i++) {
    const lo = candidates[i] ?? 0;
    const hi = candidates[i + 1] ?? 0;
    const cut = (lo + hi) / 2;
    const errors = above.filter((s) => s < cut).length + below.filter((s) => s >= cut).length;
    if (errors < best.errors || (errors === best.errors && hi - lo > best.gap))
      best = { errors, cut, gap: hi - lo };
  }
  return best.cut;
}

/**
 * Thresholds from scored probes: near-duplicate at the best duplicate/evolution cut, evolution at
 * the best evolution/unrelated cut. The set has no "related" probes, so `related` is not
 * calibrated: half the evolution threshold, a topical-overlap band below it. Rounded to 0.01.
 */
export function calibrateThresholds(probes: readonly ScoredProbe[]): NoveltyThresholds {
  const of = (kind: ProbeKind) => probes.filter((p) => p.kind === kind).map((p) => p.score);
  const round = (x: number) => Math.round(x * 100) / 100;
  const nearDuplicate = round(bestCut(of('duplicate'), of('evolution')));
  const evolution = round(Math.min(bestCut(of('evolution'), of('unrelated')), nearDuplicate - 0.01));
  return { nearDuplicate, evolution, related: round(evolution / 2) };
}
