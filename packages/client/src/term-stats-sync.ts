import type { TermStats } from '@rune/embed';
import { z } from 'zod';
import { type ClientContext, indexPath, verifyFromVault } from './context.js';
import {
  loadCountsInto,
  readTermStatsCache,
  termStatsCachePath,
  writeTermStatsCache,
} from './term-stats-cache.js';
import {
  type DeltaBinding,
  type DeltaKind,
  openTermStatsDelta,
  sealTermStatsDelta,
} from './term-stats-seal.js';
import { decodeField, parseAnswer, responseInvalid } from './wire.js';

/** pino-compatible subset; the client never logs content, only ids, sequence numbers and reasons. */
export interface TermStatsLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface TermStatsSyncOptions {
  /** Directory of the local cache; without it counts live in memory and restart from sequence 0. */
  readonly stateDir?: string;
  /** Defaults to process warnings (stderr), never stdout. */
  readonly logger?: TermStatsLogger;
}

const processWarnings: TermStatsLogger = {
  warn: (fields, message) => {
    process.emitWarning(`${message} ${JSON.stringify(fields)}`, { code: 'RUNE_TERM_STATS' });
  },
};

/** A sync for the client's embedder when its query side needs team-wide counts; undefined otherwise. */
export function termStatsSyncFor(
  ctx: ClientContext,
  options: TermStatsSyncOptions = {},
): TermStatsSync | undefined {
  const stats = ctx.embedder.termStats;
  return stats === undefined ? undefined : new TermStatsSync(ctx, stats, options);
}

export interface RefreshOutcome {
  /** Deltas opened and applied by this refresh. */
  readonly applied: number;
  /** Deltas refused (tampered, wrong key, moved) or already applied; each logged as a warning. */
  readonly skipped: number;
  /** Highest sequence number now applied. */
  readonly seq: number;
}

const b64 = z.string().regex(/^[A-Za-z0-9_-]*$/, 'must be base64url');
const grantAnswerSchema = z.object({ grant: z.record(z.string(), z.unknown()), statsKey: b64 });
const pageSchema = z.object({
  deltas: z.array(
    z.object({
      seq: z.int().min(1),
      kind: z.enum(['capture', 'forget']),
      recordId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
      sealed: b64,
    }),
  ),
  lastSeq: z.int().min(0),
  hasMore: z.boolean(),
});

/** Renew a grant this long before it expires, so a slow page never carries a stale one. */
const GRANT_MARGIN_MS = 30_000;
/** Pages per refresh: 64 × 1024 deltas; a longer backlog continues at the next refresh. */
const MAX_PAGES_PER_REFRESH = 64;

interface Grant {
  readonly envelope: Record<string, unknown>;
  readonly statsKey: Uint8Array;
  readonly expiresAt: number;
}

/**
 * Keeps an embedder's team-wide term counts current (decision 0009): publishes each captured
 * document's sealed delta under the record's own permit, and before a query applies every delta the
 * index stored since the last sequence applied. The counts are cached under `stateDir`.
 *
 * SECURITY: the stats key stays in memory (zeroed on close); the cache holds counts, never text.
 */
export class TermStatsSync {
  readonly #ctx: ClientContext;
  readonly #stats: TermStats;
  readonly #logger: TermStatsLogger;
  readonly #cachePath: string | undefined;
  #grant: Grant | undefined;
  #seq = 0;
  #applied = new Set<string>();
  #isLoaded = false;
  #running: Promise<RefreshOutcome> | undefined;

  constructor(ctx: ClientContext, stats: TermStats, options: TermStatsSyncOptions = {}) {
    this.#ctx = ctx;
    this.#stats = stats;
    this.#logger = options.logger ?? processWarnings;
    this.#cachePath =
      options.stateDir === undefined
        ? undefined
        : termStatsCachePath(options.stateDir, {
            vaultUrl: ctx.config.vaultUrl,
            indexUrl: ctx.config.indexUrl,
            indexId: ctx.config.indexId,
          });
  }

  get seq(): number {
    return this.#seq;
  }

  /** Seals and stores the delta of a document just inserted (+1) or forgotten (−1) under its permit. */
  async publish(kind: DeltaKind, permit: Record<string, unknown>, terms: Uint32Array): Promise<number> {
    const recordId = this.#permitRecordId(kind, permit);
    const grant = await this.#currentGrant();
    const binding: DeltaBinding = { indexId: this.#ctx.config.indexId, recordId, kind };
    const sealed = sealTermStatsDelta(grant.statsKey, binding, {
      documents: kind === 'capture' ? 1 : -1,
      terms,
    });
    const answer = parseAnswer(
      z.object({ seq: z.int().min(1) }),
      await this.#ctx.index.post(indexPath(this.#ctx, '/term-stats'), {
        permit,
        sealed: Buffer.from(sealed).toString('base64url'),
      }),
      'index',
      'term-stats append',
    );
    return answer.seq;
  }

  /**
   * Publishes the delta of `text` after its insert or forget. A failure is a warning, not an error:
   * the record is already stored (or forgotten), and a retry of it would not be; counts then miss it.
   */
  async publishDocument(
    kind: DeltaKind,
    permit: Record<string, unknown>,
    text: string,
  ): Promise<number | undefined> {
    const terms = this.#ctx.embedder.documentTerms?.(text);
    if (terms === undefined) return undefined;
    try {
      return await this.publish(kind, permit, terms);
    } catch (err: unknown) {
      this.#logger.warn({ kind, err: describe(err) }, 'term-stats delta not published; counts will miss it');
      return undefined;
    }
  }

  /** refresh(), with a failure logged: a query is then embedded with the counts applied so far. */
  async refreshOrWarn(): Promise<RefreshOutcome | undefined> {
    try {
      return await this.refresh();
    } catch (err: unknown) {
      this.#logger.warn(
        { seq: this.#seq, err: describe(err) },
        'term-stats refresh failed; using cached counts',
      );
      return undefined;
    }
  }

  /** Applies every delta stored after the last applied sequence; concurrent calls share one run. */
  refresh(): Promise<RefreshOutcome> {
    this.#running ??= this.#refresh().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Zeroes the stats key. */
  close(): void {
    this.#grant?.statsKey.fill(0);
    this.#grant = undefined;
  }

  async #refresh(): Promise<RefreshOutcome> {
    await this.#loadCache();
    let applied = 0;
    let skipped = 0;
    let rebuilt = false;
    for (let page = 0; page < MAX_PAGES_PER_REFRESH; page++) {
      const grant = await this.#currentGrant();
      const answer = parseAnswer(
        pageSchema,
        await this.#ctx.index.post(indexPath(this.#ctx, '/term-stats/fetch'), {
          grant: grant.envelope,
          after: this.#seq,
        }),
        'index',
        'term-stats fetch',
      );
      if (answer.lastSeq < this.#seq) {
        // The index's log is shorter than what this cache applied: restored from a backup or
        // recreated. Asking "after" the old position would skip its first deltas for good.
        this.#logger.warn(
          { lastSeq: answer.lastSeq, cachedSeq: this.#seq },
          'term-stats log is behind this cache (index restored or recreated); rebuilding the counts',
        );
        this.#stats.reset();
        this.#applied.clear();
        this.#seq = 0;
        rebuilt = true;
        continue;
      }
      for (const item of answer.deltas) {
        if (item.seq !== this.#seq + 1) {
          throw responseInvalid('index', `term-stats delta ${item.seq} does not follow ${this.#seq}`);
        }
        this.#seq = item.seq;
        const key = `${item.kind}:${item.recordId}`;
        if (this.#applied.has(key)) {
          skipped++;
          this.#logger.warn(
            { seq: item.seq, recordId: item.recordId },
            'term-stats delta served twice; skipped',
          );
          continue;
        }
        const binding = { indexId: this.#ctx.config.indexId, recordId: item.recordId, kind: item.kind };
        const opened = openTermStatsDelta(
          grant.statsKey,
          binding,
          decodeField('index', item.sealed, 'sealed'),
        );
        if ('refusal' in opened) {
          skipped++;
          this.#logger.warn(
            { seq: item.seq, recordId: item.recordId, reason: opened.refusal },
            'term-stats delta refused; skipped',
          );
          continue;
        }
        this.#stats.apply(opened.delta);
        this.#applied.add(key);
        applied++;
      }
      if (!answer.hasMore || answer.deltas.length === 0) break;
    }
    if ((applied > 0 || skipped > 0 || rebuilt) && this.#cachePath !== undefined) {
      await writeTermStatsCache(this.#cachePath, this.#ctx.config.indexId, {
        seq: this.#seq,
        stats: this.#stats,
        applied: this.#applied,
      });
    }
    return { applied, skipped, seq: this.#seq };
  }

  async #loadCache(): Promise<void> {
    if (this.#isLoaded) return;
    this.#isLoaded = true;
    if (this.#cachePath === undefined) return;
    const cached = await readTermStatsCache(this.#cachePath, this.#ctx.config.indexId);
    if (cached === undefined) return;
    if ('unreadable' in cached) {
      this.#logger.warn(
        { reason: cached.unreadable },
        'term-stats cache unreadable; rebuilding from the index',
      );
      return;
    }
    if (this.#stats.documentCount !== 0 || this.#stats.termCount !== 0) {
      // Counts already present did not come from this cache: adding the cache would count twice.
      this.#logger.warn({}, 'embedder term stats were not empty; the cache is ignored');
      return;
    }
    loadCountsInto(this.#stats, cached.stats);
    this.#seq = cached.seq;
    this.#applied = cached.applied;
  }

  async #currentGrant(): Promise<Grant> {
    const now = this.#ctx.clock();
    if (this.#grant !== undefined && this.#grant.expiresAt - GRANT_MARGIN_MS > now) return this.#grant;
    const answer = parseAnswer(
      grantAnswerSchema,
      await this.#ctx.vault.post('/v1/term-stats/grant', { indexId: this.#ctx.config.indexId }),
      'vault',
      'term-stats grant',
    );
    const grant = verifyFromVault(this.#ctx, 'term-stats-grant', answer.grant);
    if (grant.indexId !== this.#ctx.config.indexId) {
      throw responseInvalid('vault', 'the term-stats grant names another index');
    }
    const statsKey = decodeField('vault', answer.statsKey, 'statsKey');
    if (statsKey.byteLength !== 32) throw responseInvalid('vault', 'statsKey must be 32 bytes');
    this.#grant?.statsKey.fill(0);
    this.#grant = { envelope: answer.grant, statsKey, expiresAt: grant.expiresAt };
    return this.#grant;
  }

  #permitRecordId(kind: DeltaKind, permit: Record<string, unknown>): string {
    const verified =
      kind === 'capture'
        ? verifyFromVault(this.#ctx, 'capture-permit', permit)
        : verifyFromVault(this.#ctx, 'delete-permit', permit);
    if (verified.indexId !== this.#ctx.config.indexId) {
      throw responseInvalid('vault', 'the permit names another index');
    }
    return verified.recordId;
  }
}

function describe(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string')
    return err.code;
  return err instanceof Error ? err.message : String(err);
}
