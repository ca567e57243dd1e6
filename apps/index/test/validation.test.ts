import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QueryMode } from '@rune/crypto';
import { describe, expect, it } from 'vitest';
import type { IndexErrorCode } from '../src/errors.js';
import type { AppendRecordInput } from '../src/storage/index-store.js';
import { TEST_INDEX, encryptedVectorBytes, openStore, sealedFor, withTempDir } from './helpers.js';

const vector = encryptedVectorBytes(2);
const good: AppendRecordInput = {
  indexId: TEST_INDEX.id,
  recordId: 'ok',
  blockId: 0,
  slot: 0,
  vector,
  sealed: sealedFor('ok'),
};

const badAppends: [string, Partial<AppendRecordInput>, IndexErrorCode][] = [
  ['an index id with a slash', { indexId: '../x' }, 'INVALID_INPUT'],
  ['an unknown index', { indexId: 'other' }, 'INDEX_NOT_FOUND'],
  ['an empty record id', { recordId: '' }, 'INVALID_INPUT'],
  ['a 65-character record id', { recordId: 'a'.repeat(65) }, 'INVALID_INPUT'],
  ['a record id with a space', { recordId: 'a b' }, 'INVALID_INPUT'],
  ['slot 128', { slot: 128 }, 'INVALID_INPUT'],
  ['slot -1', { slot: -1 }, 'INVALID_INPUT'],
  ['a fractional slot', { slot: 1.5 }, 'INVALID_INPUT'],
  ['block id 2^32', { blockId: 2 ** 32 }, 'INVALID_INPUT'],
  ['an empty sealed record', { sealed: new Uint8Array(0) }, 'INVALID_INPUT'],
  ['an oversized sealed record', { sealed: new Uint8Array(256 * 1024 + 1) }, 'PAYLOAD_TOO_LARGE'],
  ['an oversized vector', { vector: new Uint8Array(vector.length * 2) }, 'PAYLOAD_TOO_LARGE'],
  ['a truncated vector', { vector: vector.subarray(0, vector.length - 1) }, 'INVALID_INPUT'],
  ['random bytes as a vector', { vector: sealedFor('noise', vector.length) }, 'INVALID_INPUT'],
  ['a duplicate record id', { slot: 5 }, 'DUPLICATE_RECORD'],
  ['an occupied slot', { recordId: 'other' }, 'SLOT_OCCUPIED'],
];

describe('input validation', () => {
  it('refuses each invalid append with its code and leaves the store unchanged', async () => {
    await withTempDir(async (dir) => {
      const store = await openStore(dir);
      await store.createIndex(TEST_INDEX);
      await store.appendRecord(good);
      const logPath = join(dir, 'indexes', TEST_INDEX.id, 'log-00000001.seg');
      const before = await readFile(logPath);
      const statsBefore = await store.stats(TEST_INDEX.id);
      for (const [what, change, code] of badAppends) {
        await expect(store.appendRecord({ ...good, ...change }), what).rejects.toMatchObject({ code });
      }
      await expect(store.deleteRecord(TEST_INDEX.id, 'missing')).rejects.toMatchObject({
        code: 'RECORD_NOT_FOUND',
      });
      await expect(store.getSealed(TEST_INDEX.id, ['bad id'])).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(store.getSealed(TEST_INDEX.id, Array(1025).fill('x'))).rejects.toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
      });
      expect(await store.stats(TEST_INDEX.id)).toEqual(statsBefore);
      expect(await readFile(logPath)).toEqual(before);
      await store.close();
    });
  });

  it('refuses an index whose parameters do not fit its parameter set', async () => {
    await withTempDir(async (dir) => {
      const store = await openStore(dir);
      const cases: [Partial<typeof TEST_INDEX>, IndexErrorCode][] = [
        [{ id: 'bad/id' }, 'INVALID_INPUT'],
        [{ paramSetId: 9 }, 'INVALID_INPUT'],
        [{ dim: 33 }, 'INVALID_INPUT'],
        [{ dim: 4096 }, 'INVALID_INPUT'],
        [{ queryMode: QueryMode.ENCRYPTED }, 'INVALID_INPUT'],
        [{ embedderId: '' }, 'INVALID_INPUT'],
      ];
      for (const [change, code] of cases) {
        await expect(store.createIndex({ ...TEST_INDEX, ...change })).rejects.toMatchObject({ code });
      }
      expect(await store.listIndexes()).toEqual([]);
      await store.close();
    });
  });
});
