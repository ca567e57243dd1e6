import { blockScoreWords } from '@rune/crypto';
import { hashBytes } from '@rune/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { ScoringPool } from '../../../packages/crypto/src/wasm/scoring-pool.js';
import {
  INDEX_ID,
  capturePermit,
  encryptedVector,
  kernels,
  queryBytes,
  sealedFor,
  searchTicket,
  withService,
  type Harness,
} from './core-helpers.js';
import type { BlockScoringPool } from '../src/core/index-service.js';

const pool = ScoringPool.create(kernels, { threads: 2 });
afterAll(async () => {
  await pool.close();
});

const RECORDS = [0, 1, 127, 128, 300, 520];
// Encryption is randomised: both runs must store the very same ciphertexts.
const VECTORS = new Map(RECORDS.map((n) => [n, encryptedVector(n, 32)]));
const BLOCK_COUNT = 5;

async function searchAll(options: { pool?: BlockScoringPool }): Promise<Uint8Array[]> {
  return withService(async (h: Harness) => {
    await h.service.createIndex({ indexId: INDEX_ID, paramSetId: 1, dim: 32, embedderId: 'e' });
    for (const n of RECORDS) {
      await h.service.insert({
        indexId: INDEX_ID,
        permit: capturePermit(n),
        vector: VECTORS.get(n) ?? new Uint8Array(0),
        sealed: sealedFor(`rec-${n}`),
      });
    }
    const out: Uint8Array[] = [];
    // Two searches, so the reused score buffers are exercised too.
    for (const q of [300, 1]) {
      const query = queryBytes(q, 32);
      const ticket = searchTicket(query, BLOCK_COUNT, blockScoreWords(1));
      out.push(...(await h.service.search({ indexId: INDEX_ID, ticket, query })).blocks);
    }
    return out;
  }, options);
}

describe('IndexService with a scoring pool', () => {
  it('returns the same block scores with 2 workers as on one thread', async () => {
    const single = await searchAll({});
    const parallel = await searchAll({ pool });
    expect(parallel).toHaveLength(2 * BLOCK_COUNT);
    // Compared as hashes: a failing byte-array diff would be megabytes long.
    expect(parallel.map((b) => hashBytes(b))).toEqual(single.map((b) => hashBytes(b)));
  });
});
