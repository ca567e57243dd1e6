import {
  MAX_VECTOR_NORM,
  QueryMode,
  SCORE_LIMIT,
  TopK,
  blockScoreWords,
  deriveRecordKey,
  getParamSet,
  parseBlockScores,
  roundScore,
  type BlockScores,
} from '@rune/crypto';
import {
  CLOCK_SKEW_MS,
  type Envelope,
  MAX_TOP_K,
  type SearchResult,
  type SearchTicket,
  assertResultMatches,
  hashQuery,
  isProtocolError,
  newNonce,
  signEnvelope,
  verifyEnvelope,
} from '@rune/protocol';
import { VaultError, VaultErrorCode, invalidRequest } from '../errors.js';
import type { Member } from '../member-registry.js';
import { Capability } from '../roles.js';
import { CANARY_TOLERANCE, bytesToFloat32, describe, float32ToBytes } from './canaries.js';
import { type SearchContext, audited, authorizeMember, refuse, takeRateLimit } from './context.js';
import { type RecordLedger, RecordStatus, decodeNonce } from './record-ledger.js';

/** Ticket lifetime: one embed → index search → Vault round trip, with margin. */
export const TICKET_TTL_MS = 2 * 60_000;

export interface RecallHit {
  readonly recordId: string;
  /** Rounded to 1e-3. */
  readonly score: number;
  /** K_r of the record. SECURITY: released only for records this authorised search returned. */
  readonly recordKey: Uint8Array;
}

/**
 * The bytes a plaintext query travels as, and the ticket hashes: little-endian float32. The
 * member's client must send the index exactly these bytes.
 */
export function plainQueryBytes(query: Float32Array): Uint8Array {
  return float32ToBytes(query);
}

function checkQuery(query: unknown, dim: number): Float32Array {
  if (!(query instanceof Float32Array)) throw invalidRequest('query: expected a Float32Array');
  if (query.length !== dim) throw invalidRequest(`query: expected ${dim} coordinates, got ${query.length}`);
  let sq = 0;
  for (const x of query) {
    if (!Number.isFinite(x)) throw invalidRequest('query: coordinates must be finite');
    sq += x * x;
  }
  // A unit query keeps every genuine score within SCORE_LIMIT, which the range check relies on.
  const norm = Math.sqrt(sq);
  if (norm > MAX_VECTOR_NORM || norm < 0.99) {
    throw invalidRequest(`query: expected an L2-normalised vector, norm is ${norm.toFixed(4)}`);
  }
  return Float32Array.from(query);
}

/**
 * Issues a single-use, signed search ticket: fixes the index, epoch, query (by hash), k and
 * the exact result shape the index must return.
 */
export async function issueTicket(
  ctx: SearchContext,
  request: { member: Member; indexId: string; query: Float32Array; k: number },
): Promise<Envelope<'search-ticket'>> {
  const { member, indexId, k } = request;
  return audited(ctx, { actor: member.id, action: 'recall.ticket', target: indexId }, () => {
    const role = authorizeMember(ctx, member, Capability.RECALL);
    if (!Number.isSafeInteger(k) || k < 1 || k > MAX_TOP_K) {
      throw invalidRequest(`k: expected an integer from 1 to ${MAX_TOP_K}`);
    }
    // Refused, not clamped: a caller that asked for more must learn it did not get it.
    if (k > role.topKCap) {
      throw new VaultError(
        VaultErrorCode.TOP_K_ABOVE_CAP,
        `top-k ${k} is above the cap of ${role.topKCap} for role "${role.name}"`,
        { reason: `top-k ${k} above role cap ${role.topKCap}`, memberId: member.id },
      );
    }
    takeRateLimit(ctx, member, role);
    const ledger = ctx.ledgers.get(indexId);
    if (getParamSet(ledger.paramSetId).queryMode !== QueryMode.PLAINTEXT) {
      throw invalidRequest('encrypted-query indexes are not supported by this Vault yet');
    }
    const query = checkQuery(request.query, ledger.dim);
    const nowMs = ctx.clock();
    sweepPending(ctx, nowMs);
    if (ctx.pendingTickets.size >= ctx.ticketCapacity) {
      throw refuse(
        VaultErrorCode.OVERLOADED,
        'too many outstanding tickets; retry shortly',
        'ticket map full',
      );
    }
    const ticket = signEnvelope(
      'search-ticket',
      {
        v: 1,
        ticketId: newNonce(ctx.random),
        indexId,
        epoch: ledger.epoch,
        paramSetId: ledger.paramSetId,
        dim: ledger.dim,
        queryHash: hashQuery(plainQueryBytes(query)),
        k,
        expected: { blockCount: ledger.blockCount, wordsPerBlock: blockScoreWords(ledger.paramSetId) },
        issuedAt: nowMs,
        expiresAt: nowMs + TICKET_TTL_MS,
      },
      ctx.keys.signer,
    );
    ctx.pendingTickets.set(ticket.payload.ticketId, {
      memberId: member.id,
      indexId,
      query,
      k,
      expiresAt: ticket.payload.expiresAt,
    });
    ctx.emit({ type: 'ticket.issued' });
    return ticket;
  });
}

/** Forgets tickets past their acceptance window; the ReplayGuard still remembers their ids. */
function sweepPending(ctx: SearchContext, nowMs: number): void {
  for (const [id, pending] of ctx.pendingTickets) {
    if (pending.expiresAt + CLOCK_SKEW_MS <= nowMs) ctx.pendingTickets.delete(id);
  }
}

function rejectResult(reason: string, cause?: unknown): VaultError {
  return refuse(VaultErrorCode.RESULT_REJECTED, 'search result refused', reason, cause);
}

/**
 * Opens an index's answer to a ticket: the one place scores are decrypted. Returns only the
 * top-k live records' ids, rounded scores and record keys.
 *
 * SECURITY, in order, each failing closed before anything is decrypted or returned:
 *  1. the ticket verifies under the Vault's key, and this process issued it to this member;
 *  2. the result verifies under a trusted index key;
 *  3. the ticket is consumed (single use: a replay is refused even if 4–7 would fail);
 *  4. the result is bound to the ticket (ticket id, index, epoch, query hash, block count, block
 *     hashes) and names blocks 0..blockCount-1 in order;
 *  5. each block parses as BlockScores of the ticket's parameter set and its block id, with the
 *     ticket's word count (a stored Block or anything else is refused);
 *  6. every decrypted score, live or not, lies in [-1.01, 1.01];
 *  7. every confirmed canary scores within CANARY_TOLERANCE of its exact float64 dot product.
 * There is no path that returns a score or coefficient for anything but a live, non-canary slot.
 */
export async function openResult(
  ctx: SearchContext,
  request: { member: Member; ticket: unknown; result: unknown; blocks: readonly Uint8Array[] },
): Promise<RecallHit[]> {
  const { member } = request;
  return audited(
    ctx,
    { actor: member.id, action: 'recall.open', target: targetOf(request.ticket) },
    () => {
      authorizeMember(ctx, member, Capability.RECALL);
      const nowMs = ctx.clock();
      let ticket: SearchTicket;
      try {
        ticket = verifyEnvelope('search-ticket', request.ticket, ctx.vaultVerifyKey, { now: nowMs });
      } catch (err: unknown) {
        throw refuse(VaultErrorCode.TICKET_INVALID, 'search ticket refused', describe(err), err);
      }
      if (ctx.replayGuard.has(ticket.ticketId)) {
        throw refuse(VaultErrorCode.TICKET_REPLAYED, 'search ticket already used', 'ticket replayed');
      }
      const pending = ctx.pendingTickets.get(ticket.ticketId);
      if (pending?.memberId !== member.id) {
        throw refuse(
          VaultErrorCode.TICKET_INVALID,
          'search ticket refused',
          pending === undefined
            ? 'ticket not issued by this Vault process'
            : 'ticket issued to another member',
        );
      }
      let result: SearchResult;
      try {
        result = verifyEnvelope('search-result', request.result, ctx.indexVerifyKeys, { now: nowMs });
      } catch (err: unknown) {
        throw rejectResult(describe(err), err);
      }
      try {
        ctx.replayGuard.consume(ticket.ticketId, ticket.expiresAt);
      } catch (err: unknown) {
        if (isProtocolError(err) && err.code === 'REPLAYED') {
          throw refuse(VaultErrorCode.TICKET_REPLAYED, 'search ticket already used', 'ticket replayed', err);
        }
        if (isProtocolError(err) && err.code === 'REPLAY_GUARD_FULL') {
          throw refuse(VaultErrorCode.OVERLOADED, 'too many outstanding tickets', describe(err), err);
        }
        throw refuse(VaultErrorCode.TICKET_INVALID, 'search ticket refused', describe(err), err);
      }
      // The ReplayGuard now remembers the id; the query copy is needed only for this call.
      ctx.pendingTickets.delete(ticket.ticketId);
      const startMs = ctx.clock();
      const ledger = ctx.ledgers.get(ticket.indexId);
      const blocks = bindBlocks(ctx, ticket, result, request.blocks);
      const hits = decryptAndRank(ctx, ledger, blocks, pending.query, ticket.k);
      ctx.emit({ type: 'result.opened', blocks: blocks.length, decryptMs: ctx.clock() - startMs });
      return hits;
    },
    (hits) => hits.length,
  );
}

function targetOf(ticket: unknown): string {
  if (typeof ticket === 'object' && ticket !== null && 'payload' in ticket) {
    const payload = ticket.payload;
    if (typeof payload === 'object' && payload !== null && 'indexId' in payload) {
      const indexId = payload.indexId;
      if (typeof indexId === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(indexId)) return indexId;
    }
  }
  return 'unknown';
}

/** Steps 4 and 5: binds the blocks to the verified ticket and result, then parses them strictly. */
function bindBlocks(
  ctx: SearchContext,
  ticket: SearchTicket,
  result: SearchResult,
  serialised: readonly Uint8Array[],
): BlockScores[] {
  try {
    assertResultMatches(result, ticket, serialised);
  } catch (err: unknown) {
    throw rejectResult(describe(err), err);
  }
  // Strictly increasing ids and the right count are signed; also require exactly 0..n-1, so no
  // block can be skipped by naming one past the end.
  result.blocks.forEach((block, i) => {
    if (block.blockId !== i) throw rejectResult(`result names block ${block.blockId} at position ${i}`);
  });
  if (
    ticket.paramSetId !== ctx.keys.paramSetId ||
    ticket.expected.wordsPerBlock !== ctx.decryptor.scoreWords
  ) {
    throw rejectResult('ticket shape does not match this Vault key');
  }
  return serialised.map((bytes, blockId) => {
    let scores: BlockScores;
    try {
      scores = parseBlockScores(bytes, { paramSetId: ticket.paramSetId, blockId });
    } catch (err: unknown) {
      throw rejectResult(`block ${blockId}: ${describe(err)}`, err);
    }
    if (scores.data.length !== ticket.expected.wordsPerBlock) {
      throw rejectResult(
        `block ${blockId} has ${scores.data.length} words, expected ${ticket.expected.wordsPerBlock}`,
      );
    }
    return scores;
  });
}

function dotF64(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? 0) * (b[i] ?? 0);
  return s;
}

/** Steps 6 and 7, then top-k over live non-canary records. Nothing is returned until every block passed. */
function decryptAndRank(
  ctx: SearchContext,
  ledger: RecordLedger,
  blocks: readonly BlockScores[],
  query: Float32Array,
  k: number,
): RecallHit[] {
  const perBlock = getParamSet(ledger.paramSetId).itemsPerBlock;
  const scores = new Float64Array(perBlock);
  const top = new TopK(k);
  for (const block of blocks) {
    try {
      ctx.decryptor.decryptBlock(block, scores);
    } catch (err: unknown) {
      throw rejectResult(`block ${block.blockId}: ${describe(err)}`, err);
    }
    // The whole block is range-checked before any canary, so garbage is always named as such.
    for (let slot = 0; slot < perBlock; slot++) {
      const s = scores[slot] ?? Number.NaN;
      // NaN fails both comparisons and is refused too.
      if (!(s >= -SCORE_LIMIT && s <= SCORE_LIMIT)) {
        throw refuse(
          VaultErrorCode.SCORE_OUT_OF_RANGE,
          'search result refused',
          `block ${block.blockId}: a score lies outside [-${SCORE_LIMIT}, ${SCORE_LIMIT}]`,
        );
      }
    }
    for (let slot = 0; slot < perBlock; slot++) {
      const s = scores[slot] ?? Number.NaN;
      const record = ledger.at(block.blockId, slot);
      if (record === undefined || record.status !== RecordStatus.LIVE) continue;
      if (record.canary !== undefined) {
        if (!record.canary.isConfirmed) continue;
        const expected = dotF64(bytesToFloat32(Buffer.from(record.canary.vector, 'base64url')), query);
        const deviation = Math.abs(s - expected);
        // SECURITY: a canary off by more than the noise bound means the index did not score what it stores.
        if (!(deviation <= CANARY_TOLERANCE)) {
          throw refuse(
            VaultErrorCode.CANARY_MISMATCH,
            'search result refused',
            `canary in block ${block.blockId} deviates by ${deviation.toExponential(2)}`,
          );
        }
        continue;
      }
      top.offer(block.blockId * perBlock + slot, s);
    }
  }
  scores.fill(0);
  return top.result().map(({ key, score }) => {
    const record = ledger.at(Math.floor(key / perBlock), key % perBlock);
    // Only live non-canary records were offered, and each of those holds a nonce.
    if (record?.nonce === undefined) throw new Error('ranked a slot without a live record');
    return {
      recordId: record.recordId,
      score: roundScore(score),
      recordKey: deriveRecordKey(ctx.keys.teamSecret, decodeNonce(record.nonce), record.recordId),
    };
  });
}
