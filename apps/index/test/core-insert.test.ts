import { blockScoreWords } from '@rune/crypto';
import { describe, expect, it } from 'vitest';
import {
  INDEX_ID,
  NOW,
  capturePermit,
  encryptedVector,
  expectIndexError,
  newParty,
  queryBytes,
  sealedFor,
  searchTicket,
  withService,
  type Harness,
} from './core-helpers.js';

const WORDS = blockScoreWords(1);

async function setUp(h: Harness): Promise<void> {
  await h.service.createIndex({ indexId: INDEX_ID, paramSetId: 1, dim: 32, embedderId: 'test/embedder@1' });
  await h.service.insert({
    indexId: INDEX_ID,
    permit: capturePermit(0),
    vector: encryptedVector(0, 32),
    sealed: sealedFor('rec-0'),
  });
}

/** What a refused request must leave unchanged: the stored records and every block's scores. */
async function snapshot(h: Harness): Promise<unknown> {
  const stats = await h.service.stats(INDEX_ID);
  const query = queryBytes(0, 32);
  const blockCount = Math.max(2, stats.liveBlockSpan);
  const { blocks } = await h.service.search({
    indexId: INDEX_ID,
    ticket: searchTicket(query, blockCount, WORDS),
    query,
  });
  return { recordCount: stats.recordCount, logBytes: stats.logBytes, blocks };
}

const other = newParty();

function flipFirstByte(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[0] = (out[0] ?? 0) ^ 0xff;
  return out;
}

describe('IndexService insert refusals', () => {
  it.each([
    ['a permit signed by another key', () => capturePermit(1, {}, other.signer), 'UNAUTHENTICATED'],
    [
      'an expired permit',
      () => capturePermit(1, { issuedAt: NOW - 120_000, expiresAt: NOW - 60_000 }),
      'UNAUTHENTICATED',
    ],
    ['a permit for another index', () => capturePermit(1, { indexId: 'team-b' }), 'FORBIDDEN'],
    ['a permit for another dimension', () => capturePermit(1, { dim: 64 }), 'FORBIDDEN'],
    ['a permit for another parameter set', () => capturePermit(1, { paramSetId: 2 }), 'FORBIDDEN'],
    ['a permit for another epoch', () => capturePermit(1, { epoch: 2 }), 'FORBIDDEN'],
    [
      'a search ticket instead of a permit',
      () => searchTicket(queryBytes(0, 32), 1, WORDS),
      'UNAUTHENTICATED',
    ],
    ['a permit that is not an envelope', () => ({ kind: 'capture-permit' }), 'UNAUTHENTICATED'],
  ] as const)('refuses %s and changes nothing', async (_name, permit, code) => {
    await withService(async (h) => {
      await setUp(h);
      const before = await snapshot(h);
      await expectIndexError(
        h.service.insert({
          indexId: INDEX_ID,
          permit: permit(),
          vector: encryptedVector(1, 32),
          sealed: sealedFor('rec-1'),
        }),
        code,
      );
      expect(await snapshot(h)).toEqual(before);
    });
  });

  it.each([
    ['a vector of a larger dimension', () => encryptedVector(1, 64), 'PAYLOAD_TOO_LARGE'],
    ['a vector of a larger parameter set', () => encryptedVector(1, 32, 2), 'PAYLOAD_TOO_LARGE'],
    ['a truncated vector', () => encryptedVector(1, 32).subarray(0, 1000), 'INVALID_INPUT'],
    ['a vector with a damaged header', () => flipFirstByte(encryptedVector(1, 32)), 'INVALID_INPUT'],
    ['no bytes at all', () => 'not bytes' as unknown as Uint8Array, 'INVALID_INPUT'],
  ] as const)('refuses %s and changes nothing', async (_name, vector, code) => {
    await withService(async (h) => {
      await setUp(h);
      const before = await snapshot(h);
      await expectIndexError(
        h.service.insert({
          indexId: INDEX_ID,
          permit: capturePermit(1),
          vector: vector(),
          sealed: sealedFor('x'),
        }),
        code,
      );
      expect(await snapshot(h)).toEqual(before);
    });
  });

  it('refuses a vector of a smaller dimension than its index', async () => {
    await withService(async (h) => {
      await h.service.createIndex({ indexId: INDEX_ID, paramSetId: 1, dim: 64, embedderId: 'e' });
      await expectIndexError(
        h.service.insert({
          indexId: INDEX_ID,
          permit: capturePermit(1, { dim: 64 }),
          vector: encryptedVector(1, 32),
          sealed: sealedFor('x'),
        }),
        'INVALID_INPUT',
      );
      expect((await h.service.stats(INDEX_ID)).recordCount).toBe(0);
    });
  });

  it('refuses an empty sealed record and changes nothing', async () => {
    await withService(async (h) => {
      await setUp(h);
      const before = await snapshot(h);
      await expectIndexError(
        h.service.insert({
          indexId: INDEX_ID,
          permit: capturePermit(1),
          vector: encryptedVector(1, 32),
          sealed: new Uint8Array(0),
        }),
        'INVALID_INPUT',
      );
      expect(await snapshot(h)).toEqual(before);
    });
  });

  it('refuses a replayed permit, before and after a restart', async () => {
    await withService(async (h) => {
      await h.service.createIndex({ indexId: INDEX_ID, paramSetId: 1, dim: 32, embedderId: 'e' });
      const permit = capturePermit(7);
      const request = {
        indexId: INDEX_ID,
        permit,
        vector: encryptedVector(7, 32),
        sealed: sealedFor('rec-7'),
      };
      await h.service.insert(request);
      const before = await snapshot(h);
      await expectIndexError(h.service.insert(request), 'SLOT_OCCUPIED');
      await h.restart();
      await expectIndexError(h.service.insert(request), 'SLOT_OCCUPIED');
      expect(await snapshot(h)).toEqual(before);
    });
  });

  it('refuses a second permit for a record id already used', async () => {
    await withService(async (h) => {
      await setUp(h);
      await expectIndexError(
        h.service.insert({
          indexId: INDEX_ID,
          permit: capturePermit(1, { recordId: 'rec-0' }),
          vector: encryptedVector(1, 32),
          sealed: sealedFor('rec-0'),
        }),
        'DUPLICATE_RECORD',
      );
    });
  });

  it('refuses an insert into an unknown index', async () => {
    await withService(async (h) => {
      await expectIndexError(
        h.service.insert({
          indexId: INDEX_ID,
          permit: capturePermit(0),
          vector: encryptedVector(0, 32),
          sealed: sealedFor('rec-0'),
        }),
        'INDEX_NOT_FOUND',
      );
    });
  });

  it('refuses to create an index twice or for an unknown parameter set', async () => {
    await withService(async (h) => {
      await setUp(h);
      await expectIndexError(
        h.service.createIndex({ indexId: INDEX_ID, paramSetId: 1, dim: 32, embedderId: 'e' }),
        'INDEX_EXISTS',
      );
      await expectIndexError(
        h.service.createIndex({ indexId: 'other', paramSetId: 99, dim: 32, embedderId: 'e' }),
        'INVALID_INPUT',
      );
      const description = await h.service.describe(INDEX_ID);
      expect(description).toMatchObject({ id: INDEX_ID, epoch: 1, wordsPerBlock: WORDS, slotsPerBlock: 128 });
    });
  });

  it('refuses every call once closed', async () => {
    await withService(async (h) => {
      await setUp(h);
      await h.service.close();
      await expectIndexError(h.service.stats(INDEX_ID), 'SERVICE_CLOSED');
    });
  });
});
