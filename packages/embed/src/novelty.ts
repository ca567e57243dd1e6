/**
 * Thresholds on `similarity` (best of the top-3 recalled records) that sort a new memory into
 * near-duplicate / evolution / related / novel. Calibrated per embedder family on rune's novelty
 * set (docs/decisions/0008); keyed by embedder-id prefix because similarity scales differ.
 */
export interface NoveltyThresholds {
  /** At or above: the same memory again. */
  readonly nearDuplicate: number;
  /** At or above (below nearDuplicate): an update of an existing memory. */
  readonly evolution: number;
  /** At or above (below evolution): on a known topic but new. Below: novel. */
  readonly related: number;
}

export type NoveltyClass = 'near-duplicate' | 'evolution' | 'related' | 'novel';

export const NOVELTY_THRESHOLDS: Readonly<Record<string, NoveltyThresholds>> = Object.freeze({
  // Calibrated on rune's novelty set itself (optimistic; see decision 0008). `related` has no probes
  // there: it is half the evolution cut, a guess.
  'bm25-hash-v1': Object.freeze({ nearDuplicate: 0.31, evolution: 0.11, related: 0.06 }),
});

/** Thresholds for an embedder id (longest matching prefix), or undefined when none are calibrated. */
export function noveltyThresholdsFor(embedderId: string): NoveltyThresholds | undefined {
  let best: string | undefined;
  for (const prefix of Object.keys(NOVELTY_THRESHOLDS)) {
    if (embedderId.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  return best === undefined ? undefined : NOVELTY_THRESHOLDS[best];
}

/** The class of a similarity score under `thresholds`. */
export function classifyNovelty(score: number, thresholds: NoveltyThresholds): NoveltyClass {
  if (score >= thresholds.nearDuplicate) return 'near-duplicate';
  if (score >= thresholds.evolution) return 'evolution';
  if (score >= thresholds.related) return 'related';
  return 'novel';
}
