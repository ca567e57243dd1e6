import { join } from 'node:path';
import { MessageKind, type VerificationKey } from '@rune/protocol';
import { IndexError } from '../errors.js';
import type { IndexStore } from '../storage/index-store.js';
import {
  DeltaKind,
  MAX_SEALED_DELTA_BYTES,
  TermStatsLog,
  type DeltaPage,
  type TermStatsLogLogger,
} from '../storage/term-stats-log.js';
import { requireMatch, verifyFromVault } from './authorise.js';
import { DEFAULT_EPOCH } from './index-service.js';

/** A page of deltas stops at this many entries or about this many sealed bytes. */
export const MAX_DELTAS_PER_PAGE = 1024;
export const MAX_DELTA_PAGE_BYTES = 4 * 1024 * 1024;
/** A sealed delta is never smaller than its seal (version, nonce, tag) plus the smallest padded bucket. */
const MIN_SEALED_DELTA_BYTES = 29 + 64;

export interface TermStatsServiceDeps {
  readonly store: IndexStore;
  /** The store's data directory: each index's log lives in `indexes/<id>/`. */
  readonly dataDir: string;
  readonly vaultVerifyKeys: readonly VerificationKey[];
  /** Milliseconds since the Unix epoch. */
  readonly clock: () => number;
  readonly epoch?: number;
  readonly logger?: TermStatsLogLogger;
}

export interface AppendDeltaRequest {
  readonly indexId: string;
  /** The capture-permit of the captured record (+1) or the delete-permit of the forgotten one (−1). */
  readonly permit: unknown;
  readonly sealed: Uint8Array;
}

export interface FetchDeltasRequest {
  readonly indexId: string;
  /** A Vault-signed term-stats-grant for this index. */
  readonly grant: unknown;
  /** Sequence number already applied by the reader (0 for none). */
  readonly after: number;
  readonly limit?: number;
}

/**
 * Sealed term-statistics deltas (decision 0009). SECURITY: appends are authorised by the Vault's
 * permit of the very record the delta counts, once per permit kind and record, so nobody without a
 * permit can add counts and a permit cannot add them twice; reads by a Vault-signed grant. The
 * index never holds the stats key: it stores and serves opaque bytes.
 */
export class TermStatsService {
  readonly #deps: TermStatsServiceDeps;
  readonly #epoch: number;
  readonly #logs = new Map<string, Promise<TermStatsLog>>();
  #isClosed = false;

  constructor(deps: TermStatsServiceDeps) {
    if (deps.vaultVerifyKeys.length === 0)
      throw new TypeError('at least one Vault verification key is required');
    this.#deps = deps;
    this.#epoch = deps.epoch ?? DEFAULT_EPOCH;
  }

  async append(request: AppendDeltaRequest): Promise<{ seq: number }> {
    const { kind, indexId, recordId, epoch } = this.#verifyPermit(request.permit);
    requireMatch(`${kind} permit`, 'index', indexId, request.indexId);
    requireMatch(`${kind} permit`, 'epoch', epoch, this.#epoch);
    const size = request.sealed.byteLength;
    if (size > MAX_SEALED_DELTA_BYTES) {
      throw new IndexError('PAYLOAD_TOO_LARGE', `a sealed delta is at most ${MAX_SEALED_DELTA_BYTES} bytes`);
    }
    if (size < MIN_SEALED_DELTA_BYTES) {
      throw new IndexError('INVALID_INPUT', `a sealed delta is at least ${MIN_SEALED_DELTA_BYTES} bytes`);
    }
    const log = await this.#log(request.indexId);
    return { seq: await log.append(kind, recordId, request.sealed) };
  }

  async fetch(request: FetchDeltasRequest): Promise<DeltaPage & { hasMore: boolean }> {
    this.#assertOpen();
    const grant = verifyFromVault(
      MessageKind.TERM_STATS_GRANT,
      request.grant,
      this.#deps.vaultVerifyKeys,
      this.#deps.clock(),
    );
    requireMatch('term-stats grant', 'index', grant.indexId, request.indexId);
    requireMatch('term-stats grant', 'epoch', grant.epoch, this.#epoch);
    if (!Number.isSafeInteger(request.after) || request.after < 0) {
      throw new IndexError('INVALID_INPUT', 'after must be a non-negative integer');
    }
    const limit = Math.min(request.limit ?? MAX_DELTAS_PER_PAGE, MAX_DELTAS_PER_PAGE);
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new IndexError('INVALID_INPUT', 'limit must be 1..1024');
    const log = await this.#log(request.indexId);
    const page = await log.read(request.after, limit, MAX_DELTA_PAGE_BYTES);
    const last = page.deltas.at(-1)?.seq ?? Math.max(request.after, page.lastSeq);
    return { ...page, hasMore: last < page.lastSeq };
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    for (const pending of this.#logs.values()) {
      try {
        await (await pending).close();
      } catch {
        // A log that failed to open holds no handle.
      }
    }
    this.#logs.clear();
  }

  #verifyPermit(envelope: unknown): { kind: DeltaKind; indexId: string; recordId: string; epoch: number } {
    this.#assertOpen();
    const now = this.#deps.clock();
    const kindOf =
      typeof envelope === 'object' && envelope !== null && 'kind' in envelope ? envelope.kind : undefined;
    if (kindOf === MessageKind.DELETE_PERMIT) {
      const permit = verifyFromVault(MessageKind.DELETE_PERMIT, envelope, this.#deps.vaultVerifyKeys, now);
      return { kind: DeltaKind.FORGET, ...permit };
    }
    // Anything else must be a capture-permit; verifyFromVault refuses other kinds as UNAUTHENTICATED.
    const permit = verifyFromVault(MessageKind.CAPTURE_PERMIT, envelope, this.#deps.vaultVerifyKeys, now);
    return { kind: DeltaKind.CAPTURE, ...permit };
  }

  #log(indexId: string): Promise<TermStatsLog> {
    this.#assertOpen();
    let pending = this.#logs.get(indexId);
    if (pending === undefined) {
      pending = this.#openLog(indexId);
      const opening = pending;
      this.#logs.set(indexId, opening);
      opening.catch(() => {
        if (this.#logs.get(indexId) === opening) this.#logs.delete(indexId);
      });
    }
    return pending;
  }

  async #openLog(indexId: string): Promise<TermStatsLog> {
    // SECURITY: only an index the store knows (INDEX_NOT_FOUND otherwise), so the id is a safe path part.
    const descriptor = await this.#deps.store.describeIndex(indexId);
    return TermStatsLog.open(join(this.#deps.dataDir, 'indexes', descriptor.id), this.#deps.logger);
  }

  #assertOpen(): void {
    if (this.#isClosed) throw new IndexError('SERVICE_CLOSED', 'the term-stats service is closed');
  }
}
