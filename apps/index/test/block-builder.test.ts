import {
  addToBlock,
  createBlock,
  createPreparedQuery,
  encryptVector,
  parseEncryptedVector,
  preparePlainQuery,
  scoreBlock,
  serializeEncryptedVector,
  subtractFromBlock,
  blockScoreWords,
  type Block,
} from '@rune/crypto';
import { describe, expect, it } from 'vitest';
import { rebuildBlocks } from '../src/storage/block-builder.js';
import { DIM, TEST_INDEX, openStore, sealedFor, testCrypto, unitVector, withTempDir } from './helpers.js';

const RECORDS = 40;

function scores(blocks: ReadonlyMap<number, Block>, query: Float32Array): Uint32Array[] {
  const { engine } = testCrypto();
  const prepared = createPreparedQuery(engine, 1, DIM);
  preparePlainQuery(engine, prepared, query);
  return [...blocks.values()].map((block) => {
    const out = new Uint32Array(blockScoreWords(1));
    scoreBlock(engine, block, prepared, out);
    return out;
  });
}

describe('block rebuild', () => {
  it('restores exactly the blocks and scores that existed before the restart', async () => {
    await withTempDir(async (dir) => {
      const { engine, keys } = testCrypto();
      const store = await openStore(dir);
      await store.createIndex(TEST_INDEX);
      const original = new Map<number, Block>();
      // 40 records over blocks 0 and 3 (block ids need not be dense), then 6 deletions cancelled.
      for (let i = 0; i < RECORDS; i++) {
        const blockId = i < 30 ? 0 : 3;
        const slot = i < 30 ? i * 4 : i;
        const bytes = serializeEncryptedVector(encryptVector(engine, keys.publicKey, unitVector(i)));
        await store.appendRecord({
          indexId: TEST_INDEX.id,
          recordId: `r${i}`,
          blockId,
          slot,
          vector: bytes,
          sealed: sealedFor(`r${i}`),
        });
        let block = original.get(blockId);
        if (block === undefined) {
          block = createBlock(engine, 1, DIM, blockId);
          original.set(blockId, block);
        }
        addToBlock(engine, block, parseEncryptedVector(bytes), slot);
      }
      for (const i of [0, 7, 13, 29, 31, 39]) {
        const bytes = await store.getVector(TEST_INDEX.id, `r${i}`);
        const placement = await store.deleteRecord(TEST_INDEX.id, `r${i}`);
        subtractFromBlock(
          engine,
          original.get(placement.blockId)!,
          parseEncryptedVector(bytes),
          placement.slot,
        );
      }
      await store.close();

      const reopened = await openStore(dir);
      const rebuilt = await rebuildBlocks(engine, reopened, TEST_INDEX.id);
      await reopened.close();
      expect([...rebuilt.blocks.keys()]).toEqual([0, 3]);
      for (const [id, block] of original) {
        const copy = rebuilt.blocks.get(id)!;
        expect(copy.occupied).toEqual(block.occupied);
        expect(
          Buffer.from(copy.data.buffer, copy.data.byteOffset, copy.data.byteLength).equals(
            Buffer.from(block.data.buffer, block.data.byteOffset, block.data.byteLength),
          ),
        ).toBe(true);
      }
      for (const q of [1, 7, 30])
        expect(scores(rebuilt.blocks, unitVector(q))).toEqual(scores(original, unitVector(q)));
    });
  });
});
