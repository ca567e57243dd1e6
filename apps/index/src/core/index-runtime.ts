import {
  addToBlock,
  blockScoreWords,
  createBlock,
  createPreparedQuery,
  isSlotOccupied,
  occupiedCount,
  subtractFromBlock,
  type Block,
  type EncryptedVector,
  type Engine,
  type PreparedQuery,
} from '@rune/crypto';
import type { IndexBlocks } from '../storage/block-builder.js';
import type { IndexDescriptor } from '../storage/index-store.js';
import { SerialQueue } from './serial-queue.js';

/**
 * One index's scoring state. Blocks, the prepared query and the score outputs are allocated in
 * kernel memory, which the kernels' allocator never frees: so each is allocated once and reused,
 * growing with the block count. Callers mutate or score only inside `queue`.
 */
export class IndexRuntime {
  readonly descriptor: IndexDescriptor;
  /** Words of one block's serialised scores, fixed by the parameter set. */
  readonly scoreWords: number;
  readonly queue = new SerialQueue();
  readonly #engine: Engine;
  readonly #blocks: Map<number, Block>;
  readonly #outs: Uint32Array[] = [];
  #prepared: PreparedQuery | undefined;
  #zeroScores: Uint32Array | undefined;

  constructor(engine: Engine, descriptor: IndexDescriptor, built?: IndexBlocks) {
    this.#engine = engine;
    this.descriptor = descriptor;
    this.scoreWords = blockScoreWords(descriptor.paramSetId);
    this.#blocks = new Map(built?.blocks ?? []);
  }

  /** Number of block ids a search must cover: one past the highest block holding a live record. */
  liveBlockSpan(): number {
    let span = 0;
    // An emptied block is all zero and is not rebuilt after a restart, so it does not count.
    for (const [id, block] of this.#blocks) if (id + 1 > span && occupiedCount(block) > 0) span = id + 1;
    return span;
  }

  get blocksHeld(): number {
    return this.#blocks.size;
  }

  isSlotFree(blockId: number, slot: number): boolean {
    const block = this.#blocks.get(blockId);
    return block === undefined || !isSlotOccupied(block, slot);
  }

  add(vector: EncryptedVector, blockId: number, slot: number): void {
    addToBlock(this.#engine, this.#block(blockId), vector, slot);
  }

  subtract(vector: EncryptedVector, blockId: number, slot: number): void {
    subtractFromBlock(this.#engine, this.#block(blockId), vector, slot);
  }

  /** The blocks held with ids below `count`, ascending. Ids not held are all-zero blocks. */
  heldBlocksBelow(count: number): Block[] {
    return [...this.#blocks.values()].filter((b) => b.blockId < count).sort((a, b) => a.blockId - b.blockId);
  }

  /**
   * The scores of an all-zero block (every product with zero is zero): used for block ids never
   * written, instead of allocating kernel memory, which is never freed, for blocks that hold nothing.
   */
  zeroScores(): Uint32Array {
    this.#zeroScores ??= new Uint32Array(this.scoreWords);
    return this.#zeroScores;
  }

  /** The index's one prepared-query buffer set. */
  preparedQuery(): PreparedQuery {
    this.#prepared ??= createPreparedQuery(this.#engine, this.descriptor.paramSetId, this.descriptor.dim);
    return this.#prepared;
  }

  /** Score outputs for `count` blocks, reusing those allocated by earlier searches. */
  scoreOutputs(count: number): Uint32Array[] {
    while (this.#outs.length < count) this.#outs.push(this.#engine.kernels.allocU32(this.scoreWords));
    return this.#outs.slice(0, count);
  }

  #block(blockId: number): Block {
    let block = this.#blocks.get(blockId);
    if (block === undefined) {
      block = createBlock(this.#engine, this.descriptor.paramSetId, this.descriptor.dim, blockId);
      this.#blocks.set(blockId, block);
    }
    return block;
  }
}
