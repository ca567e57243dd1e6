import { afterAll, describe, expect, it } from 'vitest';
import { addToBlock, createBlock } from '../src/block.js';
import { encryptVector } from '../src/encrypt.js';
import { isCryptoError } from '../src/errors.js';
import { generateKeyPair } from '../src/keys.js';
import { createPreparedQuery, prepareEncryptedQuery, preparePlainQuery } from '../src/query.js';
import { encryptQuery } from '../src/encrypt.js';
import { blockScoreWords, scoreBlock, scoreBlocks } from '../src/score.js';
import type { Block } from '../src/types.js';
import { ScoringPool } from '../src/wasm/scoring-pool.js';
import { createWasmKernels } from '../src/wasm/wasm-kernels.js';
import { systemRandom } from '../src/random.js';
import { randomUnitVectors } from './helpers.js';

const kernels = createWasmKernels();
const engine = { kernels, random: systemRandom };
const pools: ScoringPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

function build(
  paramSetId: number,
  count: number,
  dim: number,
): { blocks: Block[]; keys: ReturnType<typeof generateKeyPair> } {
  const keys = generateKeyPair(engine, paramSetId);
  const vectors = randomUnitVectors(count, dim, `pool-${paramSetId}`);
  const blocks: Block[] = [];
  for (let v = 0; v < count; v++) {
    const block = (blocks[v >> 7] ??= createBlock(engine, paramSetId, dim, v >> 7));
    addToBlock(
      engine,
      block,
      encryptVector(engine, keys.publicKey, vectors.subarray(v * dim, (v + 1) * dim)),
      v & 127,
    );
  }
  return { blocks, keys };
}

describe('parallel scoring pool', () => {
  it.each([1, 2, 3])(
    'gives bit-identical block scores to single-threaded scoring with %i workers',
    async (threads) => {
      const { blocks } = build(1, 5 * 128 - 7, 64);
      const pool = ScoringPool.create(kernels, { threads });
      pools.push(pool);
      const query = createPreparedQuery(engine, 1, 64);
      preparePlainQuery(engine, query, randomUnitVectors(1, 64, 'pool-q'));
      const expected = blocks.map((b) => {
        const out = new Uint32Array(blockScoreWords(1));
        scoreBlock(engine, b, query, out);
        return out;
      });
      const outs = blocks.map(() => kernels.allocU32(blockScoreWords(1)));
      await pool.scoreBlocks(blocks, query, outs);
      outs.forEach((out, i) => {
        expect(out).toEqual(expected[i]);
      });
    },
  );

  it('scores encrypted-query blocks identically too', async () => {
    const { blocks, keys } = build(2, 3 * 128, 32);
    const pool = ScoringPool.create(kernels, { threads: 2 });
    pools.push(pool);
    const query = createPreparedQuery(engine, 2, 32);
    prepareEncryptedQuery(query, encryptQuery(engine, keys.publicKey, randomUnitVectors(1, 32, 'pool-eq')));
    const outs = blocks.map(() => kernels.allocU32(blockScoreWords(2)));
    await pool.scoreBlocks(blocks, query, outs);
    blocks.forEach((b, i) => {
      const out = new Uint32Array(blockScoreWords(2));
      scoreBlock(engine, b, query, out);
      expect(outs[i]).toEqual(out);
    });
  });

  it.each([1, 2])('scoreBlocks (paired kernels, one thread) equals scoreBlock per block (set %i)', (id) => {
    const dim = 32;
    const { blocks, keys } = build(id, 3 * 128 - 5, dim);
    const query = createPreparedQuery(engine, id, dim);
    const q = randomUnitVectors(1, dim, `pairs-${id}`);
    if (id === 2) prepareEncryptedQuery(query, encryptQuery(engine, keys.publicKey, q));
    else preparePlainQuery(engine, query, q);
    // An odd count: one pair, then a block alone; outputs both inside and outside kernel memory.
    const outs = blocks.map((_, i) =>
      i % 2 === 0 ? kernels.allocU32(blockScoreWords(id)) : new Uint32Array(blockScoreWords(id)),
    );
    scoreBlocks(engine, blocks, query, outs);
    blocks.forEach((b, i) => {
      const out = new Uint32Array(blockScoreWords(id));
      scoreBlock(engine, b, query, out);
      expect(outs[i]).toEqual(out);
    });
  });

  it('refuses outputs outside kernel memory and fails searches after close', async () => {
    const { blocks } = build(1, 10, 32);
    const pool = ScoringPool.create(kernels, { threads: 1 });
    const query = createPreparedQuery(engine, 1, 32);
    preparePlainQuery(engine, query, randomUnitVectors(1, 32, 'q'));
    await expect(pool.scoreBlocks(blocks, query, [new Uint32Array(blockScoreWords(1))])).rejects.toThrow(
      RangeError,
    );
    await pool.close();
    const err: unknown = await pool
      .scoreBlocks(blocks, query, [kernels.allocU32(blockScoreWords(1))])
      .catch((e: unknown) => e);
    expect(isCryptoError(err, 'WORKER_FAILED')).toBe(true);
  });

  it('fails a search whose worker dies with WORKER_FAILED, then recovers with a fresh worker', async () => {
    const { blocks } = build(1, 4 * 128, 64);
    const pool = ScoringPool.create(kernels, { threads: 1 });
    pools.push(pool);
    const query = createPreparedQuery(engine, 1, 64);
    preparePlainQuery(engine, query, randomUnitVectors(1, 64, 'crash-q'));
    const outs = blocks.map(() => kernels.allocU32(blockScoreWords(1)));
    const search = pool.scoreBlocks(blocks, query, outs);
    // Kill the worker while its job is outstanding (TypeScript allows bracket access to private state).
    await pool['workers'][0]?.worker.terminate();
    const err: unknown = await search.catch((e: unknown) => e);
    expect(isCryptoError(err, 'WORKER_FAILED')).toBe(true);
    await pool.scoreBlocks(blocks, query, outs);
    const expected = new Uint32Array(blockScoreWords(1));
    scoreBlock(engine, blocks[3]!, query, expected);
    expect(outs[3]).toEqual(expected);
  });
});
