import { blockScoreWords } from '@rune/crypto';
import { describe, expect, it } from 'vitest';
import {
  INDEX_ID,
  NOW,
  capturePermit,
  decryptAll,
  deletePermit,
  dot,
  encryptedVector,
  expectIndexError,
  newParty,
  queryBytes,
  sealedFor,
  searchTicket,
  unitVector,
  withService,
  type Harness,
} from './core-helpers.js';

const WORDS = blockScoreWords(1);
const other = newParty();

async function setUp(h: Harness, ns: readonly number[]): Promise<void> {
  await h.service.createIndex({ indexId: INDEX_ID, paramSetId: 1, dim: 64, embedderId: 'test/embedder@1' });
  for (const n of ns) {
    await h.service.insert({
      indexId: INDEX_ID,
      permit: capturePermit(n, { dim: 64 }),
      vector: encryptedVector(n, 64),
      sealed: sealedFor(`rec-${n}`),
    });
  }
}

async function search(h: Harness, queryOf: number, blockCount = 1): Promise<readonly Uint8Array[]> {
  const query = queryBytes(queryOf, 64);
  const ticket = searchTicket(query, blockCount, WORDS, { dim: 64 });
  return (await h.service.search({ indexId: INDEX_ID, ticket, query })).blocks;
}

describe('IndexService delete', () => {
  it('cancels the vector from its block and drops the sealed record', async () => {
    await withService(async (h) => {
      await setUp(h, [0, 1]);
      const placement = await h.service.delete({ indexId: INDEX_ID, permit: deletePermit('rec-0') });
      expect(placement).toEqual({ recordId: 'rec-0', blockId: 0, slot: 0 });

      const scores = decryptAll(await search(h, 0));
      expect(Math.abs(scores.get('0:0') ?? 1)).toBeLessThan(1e-4);
      expect(scores.get('0:1')).toBeCloseTo(dot(unitVector(0, 64), unitVector(1, 64)), 3);

      const query = queryBytes(0, 64);
      const { records } = await h.service.fetch({
        indexId: INDEX_ID,
        ticket: searchTicket(query, 1, WORDS, { dim: 64 }),
        recordIds: ['rec-0', 'rec-1'],
      });
      expect([...records.keys()]).toEqual(['rec-1']);
      expect((await h.service.stats(INDEX_ID)).recordCount).toBe(1);
    });
  });

  it('leaves blocks that a restart rebuilds identically', async () => {
    await withService(async (h) => {
      await setUp(h, [0, 1, 2]);
      await h.service.delete({ indexId: INDEX_ID, permit: deletePermit('rec-1') });
      const before = await search(h, 2);
      await h.restart();
      expect(await search(h, 2)).toEqual(before);
    });
  });

  it('scores an emptied block exactly like a block never written', async () => {
    await withService(async (h) => {
      await setUp(h, [0]);
      await h.service.delete({ indexId: INDEX_ID, permit: deletePermit('rec-0') });
      expect((await h.service.stats(INDEX_ID)).blocksHeld).toBe(1);
      const emptied = await search(h, 0);
      await h.restart();
      expect((await h.service.stats(INDEX_ID)).blocksHeld).toBe(0);
      expect(await search(h, 0)).toEqual(emptied);
    });
  });

  it('refuses a replayed delete permit', async () => {
    await withService(async (h) => {
      await setUp(h, [0]);
      const permit = deletePermit('rec-0');
      await h.service.delete({ indexId: INDEX_ID, permit });
      await expectIndexError(h.service.delete({ indexId: INDEX_ID, permit }), 'RECORD_NOT_FOUND');
    });
  });

  it.each([
    ['signed by another key', () => deletePermit('rec-0', {}, other.signer), 'UNAUTHENTICATED'],
    ['for another index', () => deletePermit('rec-0', { indexId: 'team-b' }), 'FORBIDDEN'],
    ['for another epoch', () => deletePermit('rec-0', { epoch: 3 }), 'FORBIDDEN'],
    [
      'that expired',
      () => deletePermit('rec-0', { issuedAt: NOW - 120_000, expiresAt: NOW - 60_000 }),
      'UNAUTHENTICATED',
    ],
    ['that is a capture permit', () => capturePermit(0, { dim: 64 }), 'UNAUTHENTICATED'],
  ] as const)('refuses a delete permit %s and changes nothing', async (_name, permit, code) => {
    await withService(async (h) => {
      await setUp(h, [0]);
      const before = await search(h, 0);
      await expectIndexError(h.service.delete({ indexId: INDEX_ID, permit: permit() }), code);
      expect(await search(h, 0)).toEqual(before);
      expect((await h.service.stats(INDEX_ID)).recordCount).toBe(1);
    });
  });
});

describe('IndexService fetch', () => {
  const query = queryBytes(0, 64);

  it('returns sealed records with a valid ticket, which it does not consume', async () => {
    await withService(async (h) => {
      await setUp(h, [0, 1]);
      const ticket = searchTicket(query, 1, WORDS, { dim: 64 });
      await h.service.search({ indexId: INDEX_ID, ticket, query });
      for (let i = 0; i < 2; i++) {
        const { records } = await h.service.fetch({
          indexId: INDEX_ID,
          ticket,
          recordIds: ['rec-1', 'nope'],
        });
        expect(records.get('rec-1')).toEqual(sealedFor('rec-1'));
        expect(records.has('nope')).toBe(false);
      }
    });
  });

  it.each([
    ['no ticket', (): unknown => undefined, 'UNAUTHENTICATED'],
    ['a forged ticket', () => searchTicket(query, 1, WORDS, { dim: 64 }, other.signer), 'UNAUTHENTICATED'],
    [
      'an expired ticket',
      () => searchTicket(query, 1, WORDS, { dim: 64, issuedAt: NOW - 120_000, expiresAt: NOW - 60_000 }),
      'UNAUTHENTICATED',
    ],
    ['a capture permit', () => capturePermit(0, { dim: 64 }), 'UNAUTHENTICATED'],
    [
      'a ticket for another index',
      () => searchTicket(query, 1, WORDS, { dim: 64, indexId: 'b' }),
      'FORBIDDEN',
    ],
  ] as const)('refuses a fetch with %s', async (_name, ticket, code) => {
    await withService(async (h) => {
      await setUp(h, [0]);
      await expectIndexError(
        h.service.fetch({ indexId: INDEX_ID, ticket: ticket(), recordIds: ['rec-0'] }),
        code,
      );
    });
  });

  it('refuses more ids than k plus the decoy allowance', async () => {
    await withService(async (h) => {
      await setUp(h, [0]);
      const ticket = searchTicket(query, 1, WORDS, { dim: 64, k: 2 });
      const ids = Array.from({ length: 11 }, (_, i) => `rec-${i}`);
      await expectIndexError(h.service.fetch({ indexId: INDEX_ID, ticket, recordIds: ids }), 'FORBIDDEN');
      const { records } = await h.service.fetch({ indexId: INDEX_ID, ticket, recordIds: ids.slice(0, 10) });
      expect([...records.keys()]).toEqual(['rec-0']);
    });
  });
});
