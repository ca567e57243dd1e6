import { CryptoError } from './errors.js';

/** Every decrypted score of a genuine search lies within this bound (unit vectors plus noise margin). */
export const SCORE_LIMIT = 1.01;

/** Throw SCORE_OUT_OF_RANGE unless every score is a number in [-SCORE_LIMIT, SCORE_LIMIT]. */
export function assertScoresInRange(scores: ArrayLike<number>, count: number, context: string): void {
  for (let i = 0; i < count; i++) {
    const s = scores[i] ?? Number.NaN;
    // NaN fails both comparisons, so it is refused too.
    if (!(s >= -SCORE_LIMIT && s <= SCORE_LIMIT)) {
      throw new CryptoError(
        'SCORE_OUT_OF_RANGE',
        `${context}: score at position ${i} is outside [-${SCORE_LIMIT}, ${SCORE_LIMIT}]; the result was forged, tampered or made under another key`,
      );
    }
  }
}

/** Round to 1e-3: far above the ~1e-5 decryption noise, which blunts key-recovery attacks on exact outputs. */
export function roundScore(score: number): number {
  const r = Math.round(score * 1000) / 1000;
  return r === 0 ? 0 : r; // no -0 on the wire
}

export interface RankedItem {
  /** Caller-chosen integer identity, e.g. blockId·128 + slot. Smaller keys win exact ties. */
  readonly key: number;
  readonly score: number;
}

/**
 * Streaming top-k: keeps the k best (score descending, then key ascending) in a sorted array.
 * Insertion is O(k), which beats a heap for the k ≤ 100 a Vault allows.
 */
export class TopK {
  private readonly items: RankedItem[] = [];

  constructor(private readonly k: number) {
    if (!Number.isInteger(k) || k < 1 || k > 10_000)
      throw new RangeError(`k must be an integer in [1, 10000], got ${k}`);
  }

  offer(key: number, score: number): void {
    const items = this.items;
    if (items.length === this.k) {
      const last = items[items.length - 1];
      if (last !== undefined && !ranksBefore(key, score, last)) return;
      items.pop();
    }
    let i = items.length;
    while (i > 0) {
      const prev = items[i - 1];
      if (prev === undefined || !ranksBefore(key, score, prev)) break;
      i--;
    }
    items.splice(i, 0, { key, score });
  }

  /** Best first. */
  result(): RankedItem[] {
    return this.items.slice();
  }
}

function ranksBefore(key: number, score: number, other: RankedItem): boolean {
  return score > other.score || (score === other.score && key < other.key);
}
