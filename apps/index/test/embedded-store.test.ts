import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isIndexError } from '../src/errors.js';
import { openEmbeddedStore } from '../src/storage/embedded-store.js';
import type { LiveRecord } from '../src/storage/index-store.js';
import {
  TEST_INDEX,
  collectingLogger,
  encryptedVectorBytes,
  openStore,
  sealedFor,
  withTempDir,
} from './helpers.js';

const vector = encryptedVectorBytes(0);

async function collect(iterable: AsyncIterable<LiveRecord>): Promise<LiveRecord[]> {
  const out: LiveRecord[] = [];
  for await (const r of iterable) out.push(r);
  return out;
}

function record(recordId: string, blockId: number, slot: number) {
  return { indexId: TEST_INDEX.id, recordId, blockId, slot, vector, sealed: sealedFor(recordId) };
}

describe('embedded store', () => {
  it('returns the sealed records and vectors it stored', async () => {
    await withTempDir(async (dir) => {
      const store = await openStore(dir);
      const descriptor = await store.createIndex(TEST_INDEX);
      expect(descriptor).toEqual({ ...TEST_INDEX, createdAt: '2026-01-01T00:00:00.000Z' });
      await store.appendRecord(record('r1', 0, 0));
      await store.appendRecord(record('r2', 0, 1));
      const sealed = await store.getSealed(TEST_INDEX.id, ['r2', 'missing', 'r1']);
      expect([...sealed.keys()]).toEqual(['r2', 'r1']);
      expect(sealed.get('r1')).toEqual(sealedFor('r1'));
      expect(await store.getVector(TEST_INDEX.id, 'r2')).toEqual(vector);
      const stats = await store.stats(TEST_INDEX.id);
      expect(stats).toMatchObject({ recordCount: 2, deletedCount: 0, sealedBytes: 600 });
      expect(stats.vectorBytes).toBe(2 * vector.length);
      await store.close();
    });
  });

  it('restores records, tombstones and append order after a reopen', async () => {
    await withTempDir(async (dir) => {
      const store = await openStore(dir);
      await store.createIndex(TEST_INDEX);
      for (let i = 0; i < 5; i++) await store.appendRecord(record(`r${i}`, 1, i));
      expect(await store.deleteRecord(TEST_INDEX.id, 'r2')).toEqual({ recordId: 'r2', blockId: 1, slot: 2 });
      await store.appendRecord(record('r5', 1, 2)); // a freed slot can be reused
      await store.close();

      const reopened = await openStore(dir);
      expect(await reopened.listIndexes()).toHaveLength(1);
      const live = await collect(reopened.liveRecords(TEST_INDEX.id));
      expect(live.map((r) => [r.recordId, r.slot])).toEqual([
        ['r0', 0],
        ['r1', 1],
        ['r3', 3],
        ['r4', 4],
        ['r5', 2],
      ]);
      expect((await reopened.getSealed(TEST_INDEX.id, ['r2'])).size).toBe(0);
      await expect(reopened.getVector(TEST_INDEX.id, 'r2')).rejects.toMatchObject({
        code: 'RECORD_NOT_FOUND',
      });
      await expect(reopened.appendRecord(record('r2', 2, 0))).rejects.toMatchObject({
        code: 'DUPLICATE_RECORD',
      });
      expect(await reopened.stats(TEST_INDEX.id)).toMatchObject({ recordCount: 5, deletedCount: 1 });
      expect(reopened.recoveryEvents).toEqual([]);
      await reopened.close();
    });
  });

  it('commits concurrent appends together and acknowledges each once durable', async () => {
    await withTempDir(async (dir) => {
      const store = await openStore(dir);
      await store.createIndex(TEST_INDEX);
      await Promise.all(Array.from({ length: 40 }, (_, i) => store.appendRecord(record(`c${i}`, 0, i))));
      // A concurrent duplicate of a record still being written is refused too.
      const first = store.appendRecord(record('dup', 1, 0));
      await expect(store.appendRecord(record('dup', 1, 1))).rejects.toMatchObject({
        code: 'DUPLICATE_RECORD',
      });
      await expect(store.appendRecord(record('other', 1, 0))).rejects.toMatchObject({
        code: 'SLOT_OCCUPIED',
      });
      await first;
      await store.close();
      const reopened = await openStore(dir);
      expect((await reopened.stats(TEST_INDEX.id)).recordCount).toBe(41);
      await reopened.close();
    });
  });

  it('rolls over to a new segment and reads across segments after a reopen', async () => {
    await withTempDir(async (dir) => {
      const store = await openEmbeddedStore({
        dataDir: dir,
        logger: collectingLogger(),
        segmentMaxBytes: 150_000,
      });
      await store.createIndex(TEST_INDEX);
      for (let i = 0; i < 7; i++) await store.appendRecord(record(`s${i}`, 0, i));
      await store.deleteRecord(TEST_INDEX.id, 's0');
      await store.close();
      const files = await readdir(join(dir, 'indexes', TEST_INDEX.id));
      expect(files.filter((f) => f.endsWith('.seg')).length).toBeGreaterThan(2);
      const reopened = await openStore(dir);
      const live = await collect(reopened.liveRecords(TEST_INDEX.id));
      expect(live.map((r) => r.recordId)).toEqual(['s1', 's2', 's3', 's4', 's5', 's6']);
      expect((await reopened.getSealed(TEST_INDEX.id, ['s6'])).get('s6')).toEqual(sealedFor('s6'));
      await reopened.close();
    });
  });

  it('keeps its files private to the owner', async () => {
    await withTempDir(async (dir) => {
      const store = await openStore(join(dir, 'data'));
      await store.createIndex(TEST_INDEX);
      await store.appendRecord(record('p1', 0, 0));
      await store.close();
      const indexDir = join(dir, 'data', 'indexes', TEST_INDEX.id);
      expect((await stat(join(dir, 'data'))).mode & 0o777).toBe(0o700);
      expect((await stat(indexDir)).mode & 0o777).toBe(0o700);
      for (const f of await readdir(indexDir))
        expect((await stat(join(indexDir, f))).mode & 0o777).toBe(0o600);
    });
  });

  it('refuses a second index with the same id and calls after close', async () => {
    await withTempDir(async (dir) => {
      const store = await openStore(dir);
      await store.createIndex(TEST_INDEX);
      await expect(store.createIndex(TEST_INDEX)).rejects.toMatchObject({ code: 'INDEX_EXISTS' });
      await expect(store.describeIndex('nope')).rejects.toMatchObject({ code: 'INDEX_NOT_FOUND' });
      await store.close();
      await expect(store.stats(TEST_INDEX.id)).rejects.toSatisfy((err: unknown) =>
        isIndexError(err, 'STORE_CLOSED'),
      );
    });
  });
});
