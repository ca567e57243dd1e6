/**
 * Team-wide document frequencies for the BM25-shaped embedder's query side (IDF). Documents are
 * embedded without corpus statistics, so stored vectors never need re-embedding; a query weighs its
 * terms by `idf = ln(1 + (N − df + 0.5) / (df + 0.5))` over these counts.
 *
 * Terms are identified by a 32-bit hash (`termHash`), never by text: the counts travel between
 * members sealed (see @rune/client's term-stats), and a hash keeps even the plaintext form compact.
 */

/** One document's contribution: +1 when captured, −1 when forgotten. */
export interface TermStatsDelta {
  /** +1 or −1. */
  readonly documents: 1 | -1;
  /** Distinct term hashes of the document (each counted once, whatever its frequency). */
  readonly terms: Uint32Array;
}

/** What the query side reads. */
export interface TermStatsView {
  /** Number of documents counted (N). */
  readonly documentCount: number;
  /** Documents that contain the term (df); 0 when unknown. */
  df(termHash: number): number;
}

/** Serialised form: stable, JSON-safe, for local caches. */
export interface TermStatsJson {
  readonly v: 1;
  readonly documentCount: number;
  /** [termHash, df] pairs with df > 0, sorted by hash. */
  readonly df: readonly (readonly [number, number])[];
}

/** Mutable counts; deltas may arrive in any order and counts never go below zero. */
export class TermStats implements TermStatsView {
  #documentCount = 0;
  readonly #df = new Map<number, number>();

  get documentCount(): number {
    return this.#documentCount;
  }

  df(termHash: number): number {
    return this.#df.get(termHash >>> 0) ?? 0;
  }

  /** Distinct terms with a positive count. */
  get termCount(): number {
    return this.#df.size;
  }

  /** Forgets every count (the source of the deltas was reset; they are being re-applied). */
  reset(): void {
    this.#documentCount = 0;
    this.#df.clear();
  }

  apply(delta: TermStatsDelta): void {
    this.#documentCount = Math.max(0, this.#documentCount + delta.documents);
    const seen = new Set<number>();
    for (const raw of delta.terms) {
      const term = raw >>> 0;
      if (seen.has(term)) continue;
      seen.add(term);
      const next = (this.#df.get(term) ?? 0) + delta.documents;
      if (next > 0) this.#df.set(term, next);
      else this.#df.delete(term);
    }
  }

  toJSON(): TermStatsJson {
    const pairs = [...this.#df.entries()].sort((a, b) => a[0] - b[0]);
    return { v: 1, documentCount: this.#documentCount, df: pairs };
  }

  static fromJSON(json: TermStatsJson): TermStats {
    // Cached files come from disk: check the version even though the type says 1.
    if (
      (json as { readonly v: unknown }).v !== 1 ||
      !Number.isSafeInteger(json.documentCount) ||
      json.documentCount < 0
    ) {
      throw new TypeError('term stats: unsupported version or invalid document count');
    }
    const stats = new TermStats();
    stats.#documentCount = json.documentCount;
    for (const [term, count] of json.df) {
      if (
        !Number.isInteger(term) ||
        term < 0 ||
        term > 0xffffffff ||
        !Number.isSafeInteger(count) ||
        count <= 0
      ) {
        throw new TypeError('term stats: invalid [termHash, df] pair');
      }
      stats.#df.set(term, count);
    }
    return stats;
  }
}

/** BM25's IDF (the "+1" form, never negative). */
export function bm25Idf(view: TermStatsView, termHash: number): number {
  const n = view.documentCount;
  const df = Math.min(view.df(termHash), n);
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}
