import { addToBlock, createBlock, parseEncryptedVector, type Block, type Engine } from '@rune/crypto';
import { IndexError } from '../errors.js';
import type { IndexStore } from './index-store.js';

/** The scoring state of one index: its blocks by id, in ascending block id order. */
export interface IndexBlocks {
  readonly paramSetId: number;
  readonly dim: number;
  readonly blocks: ReadonlyMap<number, Block>;
}

/**
 * Rebuilds an index's encrypted blocks from its live records, in append order. Block sums are exact
 * modular additions, so the result equals the blocks that were built incrementally (adds and
 * cancelling subtractions) before the restart, word for word.
 */
export async function rebuildBlocks(
  engine: Engine,
  store: IndexStore,
  indexId: string,
): Promise<IndexBlocks> {
  const { paramSetId, dim } = await store.describeIndex(indexId);
  const blocks = new Map<number, Block>();
  for await (const record of store.liveRecords(indexId)) {
    let block = blocks.get(record.blockId);
    if (block === undefined) {
      block = createBlock(engine, paramSetId, dim, record.blockId);
      blocks.set(record.blockId, block);
    }
    try {
      addToBlock(engine, block, parseEncryptedVector(record.vector, { paramSetId, dim }), record.slot);
    } catch (err: unknown) {
      // The store validated this vector on append; failing now means the data or the engine changed.
      throw new IndexError(
        'STORAGE_CORRUPT',
        `index ${indexId}: record ${record.recordId} cannot be rebuilt`,
        {
          cause: err,
        },
      );
    }
  }
  const sorted = new Map([...blocks].sort(([a], [b]) => a - b));
  return { paramSetId, dim, blocks: sorted };
}
