import {
  CryptoError,
  HEADER_BYTES,
  ObjectKind,
  QueryMode,
  getParamSet,
  parseEncryptedQuery,
  parseEncryptedVector,
  payloadBytes,
  prepareEncryptedQuery,
  preparePlainQuery,
  scoreBlocks,
  serializeBlockScores,
  type Block,
  type EncryptedVector,
  type Engine,
  type PreparedQuery,
} from '@rune/crypto';
import {
  MessageKind,
  ProtocolError,
  ReplayGuard,
  assertQueryMatchesTicket,
  hashBytes,
  hashQuery,
  signEnvelope,
  type Envelope,
  type SearchTicket,
  type Signer,
  type VerificationKey,
} from '@rune/protocol';
import { IndexError } from '../errors.js';
import { rebuildBlocks } from '../storage/block-builder.js';
import type { IndexDescriptor, IndexStats, IndexStore, RecordPlacement } from '../storage/index-store.js';
import { requireMatch, verifyFromVault } from './authorise.js';
import { IndexRuntime } from './index-runtime.js';
import { assertQuerySize, parsePlainQuery } from './query-bytes.js';

/** The key epoch agreed with the Vault; permits and tickets of any other epoch are refused. */
export const DEFAULT_EPOCH = 1;
/** Ids a fetch may name beyond the ticket's k, so clients can hide their hits among decoys. */
export const DEFAULT_MAX_FETCH_DECOYS = 8;
export const DEFAULT_REPLAY_CAPACITY = 100_000;

/** What scores blocks off the calling thread: `ScoringPool` from @rune/crypto fits. */
export interface BlockScoringPool {
  /** Blocks, query and outputs must all live in the memory of the engine's kernels. */
  scoreBlocks(blocks: readonly Block[], query: PreparedQuery, outs: readonly Uint32Array[]): Promise<void>;
}

/** pino-compatible subset. */
export interface ServiceLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface IndexServiceDeps {
  readonly store: IndexStore;
  readonly engine: Engine;
  /** The index's own key: signs receipts and search results. */
  readonly signer: Signer;
  /** The Vault's pinned keys (several while a key rotates). */
  readonly vaultVerifyKeys: VerificationKey | readonly VerificationKey[];
  /** Milliseconds since the Unix epoch. */
  readonly clock: () => number;
  readonly pool?: BlockScoringPool;
  readonly epoch?: number;
  readonly maxFetchDecoys?: number;
  readonly replayCapacity?: number;
  readonly logger?: ServiceLogger;
}

export interface CreateIndexRequest {
  readonly indexId: string;
  readonly paramSetId: number;
  readonly dim: number;
  readonly embedderId: string;
  /** Defaults to the parameter set's mode (the only one it serves). */
  readonly queryMode?: QueryMode;
}

export interface IndexDescription extends IndexDescriptor {
  readonly epoch: number;
  /** What a ticket's `expected.wordsPerBlock` must say. */
  readonly wordsPerBlock: number;
  readonly slotsPerBlock: number;
}

export interface IndexServiceStats extends IndexStats {
  readonly indexId: string;
  /** Blocks in memory, empty ones created for searches included. */
  readonly blocksHeld: number;
  /** The least `expected.blockCount` a ticket may carry: one past the highest block with a live record. */
  readonly liveBlockSpan: number;
}

export interface InsertRequest {
  readonly indexId: string;
  /** A Vault-signed capture-permit envelope, as received. */
  readonly permit: unknown;
  /** A serialised EncryptedVector. */
  readonly vector: Uint8Array;
  readonly sealed: Uint8Array;
}

export interface SearchRequest {
  readonly indexId: string;
  readonly ticket: unknown;
  /** Plaintext mode: dim little-endian float32; encrypted mode: a serialised encrypted query. */
  readonly query: Uint8Array;
}

export interface SearchResponse {
  readonly result: Envelope<typeof MessageKind.SEARCH_RESULT>;
  /** Serialised BlockScores of blocks 0..blockCount-1, in order; result.blocks[i] signs blocks[i]. */
  readonly blocks: Uint8Array[];
}

export interface FetchRequest {
  readonly indexId: string;
  readonly ticket: unknown;
  readonly recordIds: readonly string[];
}

export interface FetchResponse {
  /** Sealed records of the ids that are live; unknown or deleted ids are absent. */
  readonly records: ReadonlyMap<string, Uint8Array>;
}

export interface DeleteRequest {
  readonly indexId: string;
  /** A Vault-signed delete-permit envelope, as received. */
  readonly permit: unknown;
}

/**
 * The index's transport-neutral core. It never holds a secret key: it checks the Vault's
 * signatures, stores and scores ciphertexts, and signs what it did. Authorising operators
 * (createIndex) is the transport's job. The store is the source of truth: every write is durable
 * before the in-memory blocks change, and blocks are rebuilt from the store on first use.
 */
export class IndexService {
  readonly #store: IndexStore;
  readonly #engine: Engine;
  readonly #signer: Signer;
  readonly #vaultKeys: readonly VerificationKey[];
  readonly #clock: () => number;
  readonly #pool: BlockScoringPool | undefined;
  readonly #epoch: number;
  readonly #maxFetchDecoys: number;
  readonly #logger: ServiceLogger | undefined;
  readonly #tickets: ReplayGuard;
  /** Used ticket ids are kept in memory only: tickets issued before this start are refused. */
  readonly #startedAt: number;
  readonly #runtimes = new Map<string, Promise<IndexRuntime>>();
  #isClosed = false;

  constructor(deps: IndexServiceDeps) {
    this.#store = deps.store;
    this.#engine = deps.engine;
    this.#signer = deps.signer;
    this.#vaultKeys =
      'keyObject' in deps.vaultVerifyKeys ? [deps.vaultVerifyKeys] : [...deps.vaultVerifyKeys];
    if (this.#vaultKeys.length === 0) throw new TypeError('at least one Vault verification key is required');
    this.#clock = deps.clock;
    this.#pool = deps.pool;
    this.#epoch = deps.epoch ?? DEFAULT_EPOCH;
    this.#maxFetchDecoys = deps.maxFetchDecoys ?? DEFAULT_MAX_FETCH_DECOYS;
    if (!Number.isSafeInteger(this.#epoch) || this.#epoch < 0) throw new TypeError('epoch must be a u32');
    if (!Number.isSafeInteger(this.#maxFetchDecoys) || this.#maxFetchDecoys < 0) {
      throw new TypeError('maxFetchDecoys must be a non-negative integer');
    }
    this.#logger = deps.logger;
    this.#tickets = new ReplayGuard({
      capacity: deps.replayCapacity ?? DEFAULT_REPLAY_CAPACITY,
      now: deps.clock,
    });
    this.#startedAt = deps.clock();
  }

  /** Rebuilds the blocks of every index in the store now rather than on first use. */
  async open(): Promise<this> {
    this.#assertOpen();
    for (const descriptor of await this.#store.listIndexes()) await this.#runtime(descriptor.id);
    return this;
  }

  async createIndex(request: CreateIndexRequest): Promise<IndexDescription> {
    this.#assertOpen();
    const descriptor = await this.#store.createIndex({
      id: request.indexId,
      paramSetId: request.paramSetId,
      dim: request.dim,
      queryMode: request.queryMode ?? defaultQueryMode(request.paramSetId),
      embedderId: request.embedderId,
    });
    const runtime = new IndexRuntime(this.#engine, descriptor);
    this.#runtimes.set(descriptor.id, Promise.resolve(runtime));
    return this.#describe(runtime);
  }

  async describe(indexId: string): Promise<IndexDescription> {
    return this.#describe(await this.#runtime(indexId));
  }

  async list(): Promise<readonly IndexDescriptor[]> {
    this.#assertOpen();
    return this.#store.listIndexes();
  }

  async stats(indexId: string): Promise<IndexServiceStats> {
    const runtime = await this.#runtime(indexId);
    const stored = await this.#store.stats(indexId);
    return {
      indexId,
      ...stored,
      blocksHeld: runtime.blocksHeld,
      liveBlockSpan: runtime.liveBlockSpan(),
    };
  }

  /** Durable insert of one permitted record; resolves with the index's signed receipt. */
  async insert(request: InsertRequest): Promise<Envelope<typeof MessageKind.INSERT_RECEIPT>> {
    this.#assertOpen();
    const permit = verifyFromVault(
      MessageKind.CAPTURE_PERMIT,
      request.permit,
      this.#vaultKeys,
      this.#clock(),
    );
    requireMatch('capture permit', 'index', permit.indexId, request.indexId);
    requireMatch('capture permit', 'epoch', permit.epoch, this.#epoch);
    const runtime = await this.#runtime(request.indexId);
    const { descriptor } = runtime;
    requireMatch('capture permit', 'parameter set', permit.paramSetId, descriptor.paramSetId);
    requireMatch('capture permit', 'dimension', permit.dim, descriptor.dim);
    const vector = parseVectorBytes(request.vector, descriptor);
    const { recordId, blockId, slot } = permit;
    // Fast refusal of a replayed permit; the store re-checks under its own pending-write sets.
    if (!runtime.isSlotFree(blockId, slot)) {
      throw new IndexError('SLOT_OCCUPIED', `slot ${slot} of block ${blockId} holds a live record`);
    }
    // Durable first: a block may only ever contain what a restart would rebuild.
    await this.#store.appendRecord({
      indexId: descriptor.id,
      recordId,
      blockId,
      slot,
      vector: request.vector,
      sealed: request.sealed,
    });
    await this.#applyToBlocks(runtime, 'insert', recordId, () => {
      runtime.add(vector, blockId, slot);
    });
    return signEnvelope(
      MessageKind.INSERT_RECEIPT,
      {
        v: 1,
        indexId: descriptor.id,
        recordId,
        blockId,
        slot,
        epoch: this.#epoch,
        ciphertextSha256: hashBytes(request.vector),
      },
      this.#signer,
    );
  }

  /** Scores every block the ticket expects and signs the result, once per ticket. */
  async search(request: SearchRequest): Promise<SearchResponse> {
    this.#assertOpen();
    const ticket = verifyFromVault(MessageKind.SEARCH_TICKET, request.ticket, this.#vaultKeys, this.#clock());
    if (ticket.issuedAt < this.#startedAt) {
      throw new IndexError('REPLAYED', 'ticket was issued before this index started; its use is unknown');
    }
    requireMatch('search ticket', 'index', ticket.indexId, request.indexId);
    requireMatch('search ticket', 'epoch', ticket.epoch, this.#epoch);
    const runtime = await this.#runtime(request.indexId);
    const { descriptor } = runtime;
    requireMatch('search ticket', 'parameter set', ticket.paramSetId, descriptor.paramSetId);
    requireMatch('search ticket', 'dimension', ticket.dim, descriptor.dim);
    assertQuerySize(request.query);
    try {
      assertQueryMatchesTicket(ticket, request.query);
    } catch (err: unknown) {
      if (err instanceof ProtocolError) throw new IndexError('FORBIDDEN', err.message, { cause: err });
      throw err;
    }
    if (ticket.expected.wordsPerBlock !== runtime.scoreWords) {
      throw new IndexError(
        'SHAPE_MISMATCH',
        `ticket expects ${ticket.expected.wordsPerBlock} words per block, this index produces ${runtime.scoreWords}`,
      );
    }
    const query =
      descriptor.queryMode === QueryMode.ENCRYPTED
        ? parseQueryCiphertext(request.query, descriptor)
        : parsePlainQuery(request.query, descriptor.dim);
    const queryHash = hashQuery(request.query);
    return runtime.queue.run(async () => this.#scoreTicket(runtime, ticket, query, queryHash));
  }

  /** Sealed records for a search the Vault authorised; the ticket is checked, not consumed. */
  async fetch(request: FetchRequest): Promise<FetchResponse> {
    this.#assertOpen();
    const ticket = verifyFromVault(MessageKind.SEARCH_TICKET, request.ticket, this.#vaultKeys, this.#clock());
    requireMatch('search ticket', 'index', ticket.indexId, request.indexId);
    requireMatch('search ticket', 'epoch', ticket.epoch, this.#epoch);
    if (!Array.isArray(request.recordIds)) throw new IndexError('INVALID_INPUT', 'record ids must be a list');
    const allowed = ticket.k + this.#maxFetchDecoys;
    if (request.recordIds.length > allowed) {
      throw new IndexError('FORBIDDEN', `this ticket allows at most ${allowed} record ids per fetch`);
    }
    return { records: await this.#store.getSealed(request.indexId, request.recordIds) };
  }

  /** Durable tombstone, then the vector's contribution is cancelled from its block. */
  async delete(request: DeleteRequest): Promise<RecordPlacement> {
    this.#assertOpen();
    const permit = verifyFromVault(MessageKind.DELETE_PERMIT, request.permit, this.#vaultKeys, this.#clock());
    requireMatch('delete permit', 'index', permit.indexId, request.indexId);
    requireMatch('delete permit', 'epoch', permit.epoch, this.#epoch);
    const runtime = await this.#runtime(request.indexId);
    const { descriptor } = runtime;
    const stored = await this.#store.getVector(descriptor.id, permit.recordId);
    let vector: EncryptedVector;
    try {
      vector = parseEncryptedVector(stored, { paramSetId: descriptor.paramSetId, dim: descriptor.dim });
    } catch (err: unknown) {
      throw new IndexError('STORAGE_CORRUPT', `record ${permit.recordId} cannot be parsed`, { cause: err });
    }
    const placement = await this.#store.deleteRecord(descriptor.id, permit.recordId);
    await this.#applyToBlocks(runtime, 'delete', permit.recordId, () => {
      runtime.subtract(vector, placement.blockId, placement.slot);
    });
    return placement;
  }

  /** Refuses new calls and waits for the ones in flight. The store and pool stay the caller's. */
  async close(): Promise<void> {
    this.#isClosed = true;
    for (const pending of this.#runtimes.values()) {
      try {
        await (await pending).queue.drain();
      } catch {
        // An index that failed to load has nothing in flight.
      }
    }
  }

  async #scoreTicket(
    runtime: IndexRuntime,
    ticket: SearchTicket,
    query: Float32Array | EncryptedVector,
    queryHash: string,
  ): Promise<SearchResponse> {
    const { descriptor } = runtime;
    const blockCount = ticket.expected.blockCount;
    // Checked inside the queue: an insert may have landed since the ticket was issued.
    const span = runtime.liveBlockSpan();
    if (span > blockCount) {
      throw new IndexError(
        'SHAPE_MISMATCH',
        `ticket expects ${blockCount} blocks, this index holds records in ${span}; ask the Vault for a new ticket`,
      );
    }
    const prepared = runtime.preparedQuery();
    try {
      if (query instanceof Float32Array) preparePlainQuery(this.#engine, prepared, query);
      else prepareEncryptedQuery(prepared, query);
    } catch (err: unknown) {
      if (err instanceof CryptoError) {
        throw new IndexError('INVALID_INPUT', `query refused: ${err.message}`, { cause: err });
      }
      throw err;
    }
    // Single use, consumed only once the request is known to be answerable.
    this.#consumeTicket(ticket);
    const held = runtime.heldBlocksBelow(blockCount);
    const outs = runtime.scoreOutputs(held.length);
    if (held.length > 0) {
      if (this.#pool === undefined) scoreBlocks(this.#engine, held, prepared, outs);
      else await this.#pool.scoreBlocks(held, prepared, outs);
    }
    // Exactly blockCount blocks, ids 0..blockCount-1; ids never written score as all-zero blocks.
    const byId = new Map(held.map((block, i) => [block.blockId, outs[i]]));
    const serialised: Uint8Array[] = [];
    for (let blockId = 0; blockId < blockCount; blockId++) {
      const data = byId.get(blockId) ?? runtime.zeroScores();
      serialised.push(serializeBlockScores({ paramSetId: descriptor.paramSetId, blockId, data }));
    }
    const result = signEnvelope(
      MessageKind.SEARCH_RESULT,
      {
        v: 1,
        ticketId: ticket.ticketId,
        indexId: descriptor.id,
        epoch: this.#epoch,
        queryHash,
        blocks: serialised.map((bytes, blockId) => ({ blockId, sha256: hashBytes(bytes) })),
      },
      this.#signer,
    );
    return { result, blocks: serialised };
  }

  #consumeTicket(ticket: SearchTicket): void {
    try {
      this.#tickets.consume(ticket.ticketId, ticket.expiresAt);
    } catch (err: unknown) {
      if (!(err instanceof ProtocolError)) throw err;
      if (err.code === 'REPLAYED') throw new IndexError('REPLAYED', 'ticket already used', { cause: err });
      if (err.code === 'REPLAY_GUARD_FULL') {
        throw new IndexError('OVERLOADED', 'too many live tickets; retry later', { cause: err });
      }
      throw new IndexError('UNAUTHENTICATED', 'search-ticket refused', { cause: err });
    }
  }

  /**
   * Applies a change that is already durable. Should the in-memory blocks refuse it, they no longer
   * match the store: drop them so the next call rebuilds from the store, and still acknowledge.
   */
  async #applyToBlocks(
    runtime: IndexRuntime,
    op: string,
    recordId: string,
    apply: () => void,
  ): Promise<void> {
    try {
      await runtime.queue.run(apply);
    } catch (err: unknown) {
      const indexId = runtime.descriptor.id;
      this.#runtimes.delete(indexId);
      this.#logger?.warn(
        { indexId, recordId, op, err: err instanceof Error ? err.message : String(err) },
        'blocks diverged from the store; they will be rebuilt',
      );
    }
  }

  #describe(runtime: IndexRuntime): IndexDescription {
    return {
      ...runtime.descriptor,
      epoch: this.#epoch,
      wordsPerBlock: runtime.scoreWords,
      slotsPerBlock: getParamSet(runtime.descriptor.paramSetId).itemsPerBlock,
    };
  }

  #runtime(indexId: string): Promise<IndexRuntime> {
    this.#assertOpen();
    let pending = this.#runtimes.get(indexId);
    if (pending === undefined) {
      pending = this.#load(indexId);
      const loading = pending;
      this.#runtimes.set(indexId, loading);
      // A failed load (unknown index, bad id) must not stay cached.
      loading.catch(() => {
        if (this.#runtimes.get(indexId) === loading) this.#runtimes.delete(indexId);
      });
    }
    return pending;
  }

  async #load(indexId: string): Promise<IndexRuntime> {
    const descriptor = await this.#store.describeIndex(indexId);
    return new IndexRuntime(
      this.#engine,
      descriptor,
      await rebuildBlocks(this.#engine, this.#store, indexId),
    );
  }

  #assertOpen(): void {
    if (this.#isClosed) throw new IndexError('SERVICE_CLOSED', 'the index service is closed');
  }
}

export function createIndexService(deps: IndexServiceDeps): IndexService {
  return new IndexService(deps);
}

/** Creates the service and rebuilds every index's blocks from the store before returning. */
export function openIndexService(deps: IndexServiceDeps): Promise<IndexService> {
  return new IndexService(deps).open();
}

function defaultQueryMode(paramSetId: number): QueryMode {
  try {
    return getParamSet(paramSetId).queryMode;
  } catch (err: unknown) {
    if (err instanceof CryptoError) throw new IndexError('INVALID_INPUT', err.message, { cause: err });
    throw err;
  }
}

/** Parsed before anything is written, so a vector that cannot join a block never reaches the log. */
function parseVectorBytes(bytes: unknown, descriptor: IndexDescriptor): EncryptedVector {
  if (!(bytes instanceof Uint8Array)) throw new IndexError('INVALID_INPUT', 'vector must be bytes');
  const params = getParamSet(descriptor.paramSetId);
  const maxBytes = HEADER_BYTES + payloadBytes(ObjectKind.ENCRYPTED_VECTOR, params, descriptor.dim, false);
  if (bytes.byteLength > maxBytes)
    throw new IndexError('PAYLOAD_TOO_LARGE', `vector exceeds ${maxBytes} bytes`);
  try {
    return parseEncryptedVector(bytes, { paramSetId: descriptor.paramSetId, dim: descriptor.dim });
  } catch (err: unknown) {
    if (err instanceof CryptoError) {
      throw new IndexError('INVALID_INPUT', `vector refused: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

function parseQueryCiphertext(bytes: Uint8Array, descriptor: IndexDescriptor): EncryptedVector {
  try {
    return parseEncryptedQuery(bytes, { paramSetId: descriptor.paramSetId, dim: descriptor.dim });
  } catch (err: unknown) {
    if (err instanceof CryptoError) {
      throw new IndexError('INVALID_INPUT', `encrypted query refused: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
