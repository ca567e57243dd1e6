import { blockScoreWords, decryptTopK, ScoreDecryptor } from '@rune/crypto';
import { MessageKind, assertResultMatches, hashBytes, verifyEnvelope } from '@rune/protocol';
import { describe, expect, it } from 'vitest';
import {
  INDEX_ID,
  NOW,
  capturePermit,
  decryptAll,
  dot,
  encryptedVector,
  engine,
  expectIndexError,
  indexParty,
  latticeKeys,
  parsedBlocks,
  queryBytes,
  sealedFor,
  searchTicket,
  unitVector,
  withService,
  type Harness,
} from './core-helpers.js';

const WORDS = blockScoreWords(1);

async function insertRecords(h: Harness, ns: readonly number[], dim = 32, paramSetId = 1): Promise<void> {
  for (const n of ns) {
    await h.service.insert({
      indexId: INDEX_ID,
      permit: capturePermit(n, { dim, paramSetId }),
      vector: encryptedVector(n, dim, paramSetId),
      sealed: sealedFor(`rec-${n}`),
    });
  }
}

async function createIndex(h: Harness, dim = 32, paramSetId = 1): Promise<void> {
  await h.service.createIndex({ indexId: INDEX_ID, paramSetId, dim, embedderId: 'test/embedder@1' });
}

describe('IndexService search', () => {
  it('returns exactly blockCount signed blocks whose decryption finds the inserted record', async () => {
    await withService(async (h) => {
      await createIndex(h);
      await insertRecords(h, [0, 1, 130]);
      const query = queryBytes(130, 32);
      const ticket = searchTicket(query, 3, WORDS);
      const { result, blocks } = await h.service.search({ indexId: INDEX_ID, ticket, query });

      expect(blocks).toHaveLength(3);
      const payload = verifyEnvelope(MessageKind.SEARCH_RESULT, result, indexParty.key, { now: NOW });
      expect(payload.blocks.map((b) => b.blockId)).toEqual([0, 1, 2]);
      expect(payload.epoch).toBe(1);
      assertResultMatches(payload, ticket.payload, blocks);

      const live = new Set(['0:0', '0:1', '1:2']);
      const top = decryptTopK(ScoreDecryptor.create(engine, latticeKeys(1).secretKey), parsedBlocks(blocks), {
        k: 3,
        isLive: (blockId, slot) => live.has(`${blockId}:${slot}`),
      });
      expect(top[0]).toMatchObject({ blockId: 1, slot: 2 });
      expect(top[0]?.score).toBeCloseTo(dot(unitVector(130, 32), unitVector(130, 32)), 3);
      // The block the index had never seen is all-zero: every score decrypts to 0.
      const scores = decryptAll(blocks);
      for (let slot = 0; slot < 128; slot++)
        expect(Math.abs(scores.get(`2:${slot}`) ?? 1)).toBeLessThan(1e-4);
    });
  });

  it('signs an insert receipt over the exact ciphertext it made durable', async () => {
    await withService(async (h) => {
      await createIndex(h);
      const vector = encryptedVector(5, 32);
      const receipt = await h.service.insert({
        indexId: INDEX_ID,
        permit: capturePermit(5),
        vector,
        sealed: sealedFor('rec-5'),
      });
      expect(verifyEnvelope(MessageKind.INSERT_RECEIPT, receipt, indexParty.key, { now: NOW })).toEqual({
        v: 1,
        indexId: INDEX_ID,
        recordId: 'rec-5',
        blockId: 0,
        slot: 5,
        epoch: 1,
        ciphertextSha256: hashBytes(vector),
      });
    });
  });

  it('gives identical block scores after the store and service restart', async () => {
    await withService(async (h) => {
      await createIndex(h);
      await insertRecords(h, [0, 3, 129]);
      const query = queryBytes(3, 32);
      const before = await h.service.search({
        indexId: INDEX_ID,
        ticket: searchTicket(query, 2, WORDS),
        query,
      });
      await h.restart();
      expect((await h.service.stats(INDEX_ID)).liveBlockSpan).toBe(2);
      const after = await h.service.search({
        indexId: INDEX_ID,
        ticket: searchTicket(query, 2, WORDS),
        query,
      });
      expect(after.blocks).toEqual(before.blocks);
    });
  });

  it('scores encrypted queries for an encrypted-query index', async () => {
    await withService(async (h) => {
      await createIndex(h, 32, 2);
      expect((await h.service.describe(INDEX_ID)).queryMode).toBe('encrypted');
      await insertRecords(h, [0, 1], 32, 2);
      const query = queryBytes(1, 32, 2);
      const ticket = searchTicket(query, 1, blockScoreWords(2), { paramSetId: 2 });
      const { blocks } = await h.service.search({ indexId: INDEX_ID, ticket, query });
      const scores = decryptAll(blocks, 2);
      expect(scores.get('0:1')).toBeCloseTo(dot(unitVector(1, 32), unitVector(1, 32)), 3);
      expect(scores.get('0:0')).toBeCloseTo(dot(unitVector(0, 32), unitVector(1, 32)), 3);
    });
  });

  it('answers a ticket for zero blocks on an empty index with an empty signed result', async () => {
    await withService(async (h) => {
      await createIndex(h);
      const query = queryBytes(0, 32);
      const { result, blocks } = await h.service.search({
        indexId: INDEX_ID,
        ticket: searchTicket(query, 0, WORDS),
        query,
      });
      expect(blocks).toEqual([]);
      expect(result.payload.blocks).toEqual([]);
    });
  });

  it('refuses a replayed ticket', async () => {
    await withService(async (h) => {
      await createIndex(h);
      await insertRecords(h, [0]);
      const query = queryBytes(0, 32);
      const ticket = searchTicket(query, 1, WORDS);
      await h.service.search({ indexId: INDEX_ID, ticket, query });
      await expectIndexError(h.service.search({ indexId: INDEX_ID, ticket, query }), 'REPLAYED');
    });
  });

  it('refuses, after a restart, a ticket issued before the index started', async () => {
    await withService(async (h) => {
      await createIndex(h);
      const query = queryBytes(0, 32);
      const ticket = searchTicket(query, 0, WORDS);
      await h.service.search({ indexId: INDEX_ID, ticket, query });
      h.clock.now = NOW + 1000;
      await h.restart();
      await expectIndexError(h.service.search({ indexId: INDEX_ID, ticket, query }), 'REPLAYED');
    });
  });

  it('refuses rather than forget a live ticket when its replay guard is full', async () => {
    await withService(
      async (h) => {
        await createIndex(h);
        const query = queryBytes(0, 32);
        await h.service.search({ indexId: INDEX_ID, ticket: searchTicket(query, 0, WORDS), query });
        await expectIndexError(
          h.service.search({ indexId: INDEX_ID, ticket: searchTicket(query, 0, WORDS), query }),
          'OVERLOADED',
        );
      },
      { replayCapacity: 1 },
    );
  });

  it('refuses a query that does not match the ticket hash, without consuming the ticket', async () => {
    await withService(async (h) => {
      await createIndex(h);
      await insertRecords(h, [0]);
      const query = queryBytes(0, 32);
      const ticket = searchTicket(query, 1, WORDS);
      const err = await expectIndexError(
        h.service.search({ indexId: INDEX_ID, ticket, query: queryBytes(1, 32) }),
        'FORBIDDEN',
      );
      expect(err.cause).toMatchObject({ code: 'QUERY_MISMATCH' });
      await h.service.search({ indexId: INDEX_ID, ticket, query });
    });
  });

  it('refuses a ticket for fewer blocks than the index holds, or for another block size', async () => {
    await withService(async (h) => {
      await createIndex(h);
      await insertRecords(h, [0, 200]);
      const query = queryBytes(0, 32);
      await expectIndexError(
        h.service.search({ indexId: INDEX_ID, ticket: searchTicket(query, 1, WORDS), query }),
        'SHAPE_MISMATCH',
      );
      await expectIndexError(
        h.service.search({ indexId: INDEX_ID, ticket: searchTicket(query, 2, WORDS + 1), query }),
        'SHAPE_MISMATCH',
      );
      const { blocks } = await h.service.search({
        indexId: INDEX_ID,
        ticket: searchTicket(query, 2, WORDS),
        query,
      });
      expect(blocks).toHaveLength(2);
    });
  });

  it.each([
    ['another index', { indexId: 'team-b' }, 'FORBIDDEN'],
    ['another epoch', { epoch: 2 }, 'FORBIDDEN'],
    ['another dimension', { dim: 64 }, 'FORBIDDEN'],
    ['another parameter set', { paramSetId: 2 }, 'FORBIDDEN'],
    ['an expired window', { issuedAt: NOW - 120_000, expiresAt: NOW - 60_000 }, 'UNAUTHENTICATED'],
  ] as const)('refuses a ticket for %s', async (_name, overrides, code) => {
    await withService(async (h) => {
      await createIndex(h);
      const query = queryBytes(0, 32);
      await expectIndexError(
        h.service.search({ indexId: INDEX_ID, ticket: searchTicket(query, 0, WORDS, overrides), query }),
        code,
      );
    });
  });

  it('refuses a plaintext query of the wrong length or with a non-finite coordinate', async () => {
    await withService(async (h) => {
      await createIndex(h);
      const short = queryBytes(0, 16);
      await expectIndexError(
        h.service.search({ indexId: INDEX_ID, ticket: searchTicket(short, 0, WORDS), query: short }),
        'INVALID_INPUT',
      );
      const nan = queryBytes(0, 32);
      new DataView(nan.buffer).setFloat32(8, Number.NaN, true);
      await expectIndexError(
        h.service.search({ indexId: INDEX_ID, ticket: searchTicket(nan, 0, WORDS), query: nan }),
        'INVALID_INPUT',
      );
    });
  });
});
