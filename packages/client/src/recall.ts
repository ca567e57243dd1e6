import { isCryptoError, openRecord } from '@rune/crypto';
import { MAX_TOP_K, encodeBase64url } from '@rune/protocol';
import { type ClientContext, indexPath } from './context.js';
import { RuneClientError, invalidArgument, isRuneClientError } from './errors.js';
import { FrameAnswer } from './http.js';
import { decodeRecordPayload, type RecordPayload } from './record-payload.js';
import { shuffle } from './record-id-pool.js';
import { float32ToLeBytes, unitVector } from './vectors.js';
import {
  decodeField,
  fetchAnswerSchema,
  openAnswerSchema,
  parseAnswer,
  responseInvalid,
  searchAnswerSchema,
  searchHeadSchema,
  ticketAnswerSchema,
} from './wire.js';

/** Ids a fetch may name beyond k (the index's DEFAULT_MAX_FETCH_DECOYS). */
export const MAX_FETCH_DECOYS = 8;
/**
 * The key version records are sealed under. The Vault has one so far (RECORD_KEY_VERSION in
 * apps/vault/src/search/context.ts); its hits will have to carry the version when a second appears.
 */
export const RECORD_KEY_VERSION = 1;

export interface RecallOptions {
  /** Results wanted, 1..100 and at most the role's cap (default 5). */
  readonly k?: number;
  /** Ids this client saw earlier, fetched beside the hits so the index cannot tell which matched (0..8, default 0). */
  readonly decoys?: number;
}

export interface RecallHit {
  readonly recordId: string;
  /** Cosine similarity, rounded by the Vault to 1e-3. */
  readonly score: number;
  readonly record: RecordPayload;
}

/** Hits the Vault returned that could not be shown: forgotten meanwhile, or a layout this client cannot read. */
export interface SkippedHit {
  readonly recordId: string;
  readonly reason: 'missing' | 'unreadable';
}

export interface RecallTimings {
  readonly embedMs: number;
  /** Vault: search ticket. */
  readonly ticketMs: number;
  /** Index: score every block. */
  readonly searchMs: number;
  /** Vault: verify, decrypt, rank, release keys. */
  readonly openMs: number;
  /** Index: sealed records, then local opening. */
  readonly fetchMs: number;
  readonly totalMs: number;
}

export interface RecallOutcome {
  /** Best first. */
  readonly hits: RecallHit[];
  readonly skipped: SkippedHit[];
  readonly timings: RecallTimings;
}

interface SearchedTicket {
  readonly ticket: Record<string, unknown>;
  readonly result: Record<string, unknown>;
  /** Serialised BlockScores, as the index sent them. */
  readonly blocks: Uint8Array[];
  readonly ticketMs: number;
  readonly searchMs: number;
}

/**
 * Recall (DESIGN §3): ticket from the Vault, encrypted scores from the index, top-k ids and keys
 * from the Vault, sealed records from the index, opened here.
 *
 * SECURITY: record keys are zeroed before this returns; a record that fails authentication is an
 * attack signal and fails the recall (RECORD_TAMPERED) rather than being dropped quietly.
 */
export async function recallVector(
  ctx: ClientContext,
  vector: ArrayLike<number>,
  options: RecallOptions = {},
  embedMs = 0,
): Promise<RecallOutcome> {
  const started = ctx.monotonicMs();
  const k = options.k ?? 5;
  const decoys = options.decoys ?? 0;
  if (!Number.isSafeInteger(k) || k < 1 || k > MAX_TOP_K) throw invalidArgument(`k must be 1..${MAX_TOP_K}`);
  if (!Number.isSafeInteger(decoys) || decoys < 0 || decoys > MAX_FETCH_DECOYS) {
    throw invalidArgument(`decoys must be 0..${MAX_FETCH_DECOYS}`);
  }
  const query = encodeBase64url(float32ToLeBytes(unitVector(vector, ctx.embedder.dim, 'query')));
  const searched = await ticketAndSearch(ctx, query, k);

  const opening = ctx.monotonicMs();
  const opened = parseAnswer(
    openAnswerSchema,
    await ctx.vault.postFrame(
      '/v1/results',
      { ticket: searched.ticket, result: searched.result },
      searched.blocks,
    ),
    'vault',
    'search result',
  );
  const fetching = ctx.monotonicMs();
  if (opened.hits.length > k || new Set(opened.hits.map((h) => h.recordId)).size !== opened.hits.length) {
    throw responseInvalid('vault', 'more hits than asked for, or a hit twice');
  }
  const keys = opened.hits.map((h) => decodeField('vault', h.recordKey, 'recordKey'));
  try {
    const hits: RecallHit[] = [];
    const skipped: SkippedHit[] = [];
    if (opened.hits.length > 0) {
      const sealedById = await fetchSealed(
        ctx,
        searched.ticket,
        opened.hits.map((h) => h.recordId),
        decoys,
      );
      opened.hits.forEach((hit, i) => {
        const sealed = sealedById.get(hit.recordId);
        if (sealed === undefined) {
          skipped.push({ recordId: hit.recordId, reason: 'missing' });
          return;
        }
        const record = openHit(ctx, hit.recordId, keys[i] ?? new Uint8Array(0), sealed);
        if (record === undefined) skipped.push({ recordId: hit.recordId, reason: 'unreadable' });
        else hits.push({ recordId: hit.recordId, score: hit.score, record });
        ctx.seenIds.add(hit.recordId);
      });
    }
    hits.sort((a, b) => b.score - a.score);
    const done = ctx.monotonicMs();
    return {
      hits,
      skipped,
      timings: {
        embedMs,
        ticketMs: searched.ticketMs,
        searchMs: searched.searchMs,
        openMs: fetching - opening,
        fetchMs: done - fetching,
        totalMs: done - started + embedMs,
      },
    };
  } finally {
    for (const key of keys) key.fill(0);
  }
}

/**
 * A ticket and the index's answer to it. An insert that lands between the two makes the index
 * answer SHAPE_MISMATCH (the ticket fixed an older block count); one fresh ticket fixes that.
 */
async function ticketAndSearch(ctx: ClientContext, query: string, k: number): Promise<SearchedTicket> {
  for (let attempt = 0; ; attempt++) {
    const t0 = ctx.monotonicMs();
    const { ticket } = parseAnswer(
      ticketAnswerSchema,
      await ctx.vault.post('/v1/tickets', { indexId: ctx.config.indexId, query, k }),
      'vault',
      'search ticket',
    );
    const t1 = ctx.monotonicMs();
    try {
      const answer = searchAnswerOf(
        await ctx.index.postAcceptingFrame(indexPath(ctx, '/search'), { ticket, query }),
      );
      return { ticket, ...answer, ticketMs: t1 - t0, searchMs: ctx.monotonicMs() - t1 };
    } catch (err: unknown) {
      if (attempt === 0 && isRuneClientError(err, 'SHAPE_MISMATCH') && err.service === 'index') continue;
      throw err;
    }
  }
}

async function fetchSealed(
  ctx: ClientContext,
  ticket: Record<string, unknown>,
  hitIds: readonly string[],
  decoys: number,
): Promise<Map<string, Uint8Array>> {
  const wanted = new Set(hitIds);
  const recordIds = shuffle([...hitIds, ...ctx.seenIds.sample(decoys, wanted)]);
  const answer = parseAnswer(
    fetchAnswerSchema,
    await ctx.index.post(indexPath(ctx, '/records/fetch'), { ticket, recordIds }),
    'index',
    'fetch',
  );
  const out = new Map<string, Uint8Array>();
  for (const { recordId, sealed } of answer.records) {
    // Decoys' records are dropped unopened: this client holds no key for them.
    if (wanted.has(recordId)) out.set(recordId, decodeField('index', sealed, `sealed ${recordId}`));
  }
  return out;
}

/** The opened record; undefined when it is authentic but unreadable by this client. */
function openHit(
  ctx: ClientContext,
  recordId: string,
  key: Uint8Array,
  sealed: Uint8Array,
): RecordPayload | undefined {
  let plaintext: Uint8Array;
  try {
    plaintext = openRecord({
      key,
      indexId: ctx.config.indexId,
      recordId,
      keyVersion: RECORD_KEY_VERSION,
      sealed,
    });
  } catch (err: unknown) {
    if (!isCryptoError(err)) throw err;
    throw new RuneClientError(
      'RECORD_TAMPERED',
      `record ${recordId} from the index does not open: ${err.message}`,
      {
        service: 'index',
        hint: 'the index returned a modified or substituted record; tell your Vault admin',
        cause: err,
      },
    );
  }
  try {
    return decodeRecordPayload(plaintext, recordId);
  } catch (err: unknown) {
    if (isRuneClientError(err, 'RECORD_UNREADABLE')) return undefined;
    throw err;
  } finally {
    plaintext.fill(0);
  }
}

/** The index answers a frame (blocks as raw bytes); a service without frames answers base64 in JSON. */
function searchAnswerOf(answer: unknown): { result: Record<string, unknown>; blocks: Uint8Array[] } {
  if (answer instanceof FrameAnswer) {
    const { result } = parseAnswer(searchHeadSchema, answer.json, 'index', 'search');
    return { result, blocks: answer.blobs };
  }
  const parsed = parseAnswer(searchAnswerSchema, answer, 'index', 'search');
  return {
    result: parsed.result,
    blocks: parsed.blocks.map((b, i) => decodeField('index', b, `blocks[${i}]`)),
  };
}
