import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TermStats } from '@rune/embed';
import { writeFileAtomic } from '@rune/runtime';
import { z } from 'zod';

/**
 * The member's local copy of the merged team counts and the last delta sequence applied, so a
 * recall fetches only newer deltas. `<stateDir>/term-stats/<hash>.json`, mode 0600, replaced
 * atomically. It holds only counts of 32-bit term hashes (no text) and the ids of applied deltas.
 */
export const TERM_STATS_CACHE_DIR = 'term-stats';
export const TERM_STATS_CACHE_VERSION = 1;
const DIR_MODE = 0o700;

export interface TermStatsCacheState {
  /** Highest index sequence number applied (0: none). */
  readonly seq: number;
  readonly stats: TermStats;
  /** `${kind}:${recordId}` of every delta applied: a delta served twice is counted once. */
  readonly applied: Set<string>;
}

const cacheSchema = z.strictObject({
  v: z.literal(TERM_STATS_CACHE_VERSION),
  indexId: z.string(),
  seq: z.int().min(0),
  stats: z.strictObject({
    v: z.literal(1),
    documentCount: z.int().min(0),
    df: z.array(z.tuple([z.int().min(0).max(0xffff_ffff), z.int().min(1)])),
  }),
  applied: z.array(z.string().max(80)),
});

/** One file per Vault, index service and index: two teams never share counts. */
export function termStatsCachePath(
  stateDir: string,
  scope: { vaultUrl: string; indexUrl: string; indexId: string },
): string {
  const digest = createHash('sha256')
    .update(`${scope.vaultUrl}\0${scope.indexUrl}\0${scope.indexId}`, 'utf8')
    .digest('hex')
    .slice(0, 32);
  return join(stateDir, TERM_STATS_CACHE_DIR, `${digest}.json`);
}

/** The cached state, or undefined when there is none or it does not parse (it is rebuilt from seq 0). */
export async function readTermStatsCache(
  path: string,
  indexId: string,
): Promise<TermStatsCacheState | { readonly unreadable: string } | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { unreadable: err instanceof Error ? err.message : String(err) };
  }
  try {
    const parsed = cacheSchema.parse(JSON.parse(text));
    if (parsed.indexId !== indexId) return { unreadable: 'the cache names another index' };
    return {
      seq: parsed.seq,
      stats: TermStats.fromJSON(parsed.stats),
      applied: new Set(parsed.applied),
    };
  } catch (err: unknown) {
    return { unreadable: err instanceof Error ? err.message : String(err) };
  }
}

export async function writeTermStatsCache(
  path: string,
  indexId: string,
  state: TermStatsCacheState,
): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: DIR_MODE });
  const json = {
    v: TERM_STATS_CACHE_VERSION,
    indexId,
    seq: state.seq,
    stats: state.stats.toJSON(),
    applied: [...state.applied],
  };
  await writeFileAtomic(path, Buffer.from(`${JSON.stringify(json)}\n`, 'utf8'));
}

/**
 * Loads `source` counts into `target`, which must be empty. TermStats only takes ±1 deltas, so the
 * counts are rebuilt as documentCount synthetic documents: document i holds every term with df ≥ i.
 * O(Σ df), about as much work as applying the deltas once.
 */
export function loadCountsInto(target: TermStats, source: TermStats): void {
  const json = source.toJSON();
  const byDf = [...json.df].sort((a, b) => b[1] - a[1]);
  const terms = Uint32Array.from(byDf, ([term]) => term);
  let width = terms.length;
  for (let i = 1; i <= json.documentCount; i++) {
    while (width > 0 && (byDf[width - 1]?.[1] ?? 0) < i) width--;
    target.apply({ documents: 1, terms: terms.subarray(0, width) });
  }
}
