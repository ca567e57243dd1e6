import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENTRY_HEADER_BYTES } from '../src/storage/log-format.js';
import {
  TEST_INDEX,
  collectingLogger,
  encryptedVectorBytes,
  openStore,
  sealedFor,
  withTempDir,
} from './helpers.js';

const vector = encryptedVectorBytes(1);

function segmentPath(dir: string): string {
  return join(dir, 'indexes', TEST_INDEX.id, 'log-00000001.seg');
}

/** [start, end) of each entry in a log segment. */
function entryBounds(bytes: Buffer): [number, number][] {
  const out: [number, number][] = [];
  for (let o = 0; o < bytes.length;) {
    const end = o + ENTRY_HEADER_BYTES + bytes.readUInt32LE(o + 5);
    out.push([o, end]);
    o = end;
  }
  return out;
}

/** Three records r0..r2 and, optionally, a tombstone of r1 as the last entry. */
async function writeLog(dir: string, withTombstone: boolean): Promise<Buffer> {
  const store = await openStore(dir);
  await store.createIndex(TEST_INDEX);
  for (let i = 0; i < 3; i++) {
    await store.appendRecord({
      indexId: TEST_INDEX.id,
      recordId: `r${i}`,
      blockId: 0,
      slot: i,
      vector,
      sealed: sealedFor(`r${i}`),
    });
  }
  if (withTombstone) await store.deleteRecord(TEST_INDEX.id, 'r1');
  await store.close();
  return readFile(segmentPath(dir));
}

async function expectIntact(dir: string, ids: readonly string[]): Promise<void> {
  const store = await openStore(dir);
  const sealed = await store.getSealed(TEST_INDEX.id, ids);
  for (const id of ids) {
    expect(sealed.get(id)).toEqual(sealedFor(id));
    expect(await store.getVector(TEST_INDEX.id, id)).toEqual(vector);
  }
  await store.close();
}

async function reopenCut(dir: string, original: Buffer, length: number) {
  await writeFile(segmentPath(dir), original.subarray(0, length));
  const logger = collectingLogger();
  const store = await openStore(dir, logger);
  const live: string[] = [];
  for await (const r of store.liveRecords(TEST_INDEX.id)) live.push(r.recordId);
  const events = store.recoveryEvents;
  await store.close();
  return { live, events, logger, sizeAfter: (await readFile(segmentPath(dir))).length };
}

describe('recovery', () => {
  it('cuts a torn tombstone at every offset and keeps every earlier entry', async () => {
    await withTempDir(async (dir) => {
      const original = await writeLog(dir, true);
      const [start, end] = entryBounds(original).at(-1)!;
      for (let cut = start + 1; cut < end; cut++) {
        const { live, events, logger, sizeAfter } = await reopenCut(dir, original, cut);
        expect(live).toEqual(['r0', 'r1', 'r2']);
        expect(events).toEqual([expect.objectContaining({ offset: start, discardedBytes: cut - start })]);
        expect(logger.warnings).toHaveLength(1);
        expect(sizeAfter).toBe(start);
      }
      await expectIntact(dir, ['r0', 'r1', 'r2']);
    });
  });

  it('cuts a torn record at offsets throughout it and then accepts new appends', async () => {
    await withTempDir(async (dir) => {
      const original = await writeLog(dir, false);
      const [start, end] = entryBounds(original).at(-1)!;
      const cuts = new Set<number>();
      for (let c = start + 1; c < start + 130; c++) cuts.add(c);
      for (let c = start; c < end; c += 1021) cuts.add(c + 1);
      for (let c = end - 64; c < end; c++) cuts.add(c);
      for (const cut of cuts) {
        const { live, events, sizeAfter } = await reopenCut(dir, original, cut);
        expect(live).toEqual(['r0', 'r1']);
        expect(events).toEqual([expect.objectContaining({ offset: start, discardedBytes: cut - start })]);
        expect(sizeAfter).toBe(start);
      }
      const store = await openStore(dir);
      const again = {
        indexId: TEST_INDEX.id,
        recordId: 'r2',
        blockId: 0,
        slot: 2,
        vector,
        sealed: sealedFor('r2'),
      };
      await store.appendRecord(again);
      await store.close();
      await expectIntact(dir, ['r0', 'r1', 'r2']);
    });
  });

  it('cuts a tail of zeros left by a crash that extended the file but not its data', async () => {
    await withTempDir(async (dir) => {
      const original = await writeLog(dir, false);
      await writeFile(segmentPath(dir), Buffer.concat([original, Buffer.alloc(4096)]));
      const store = await openStore(dir);
      expect(store.recoveryEvents).toEqual([
        expect.objectContaining({ offset: original.length, discardedBytes: 4096, reason: 'bad entry magic' }),
      ]);
      await store.close();
      await expectIntact(dir, ['r0', 'r1', 'r2']);
    });
  });

  it('refuses to open when a bit flips inside an earlier entry, naming the file and offset', async () => {
    await withTempDir(async (dir) => {
      const original = await writeLog(dir, false);
      const [first] = entryBounds(original);
      for (const at of [first![0] + 2, first![0] + 6, first![0] + 12, first![0] + 40, first![1] - 1]) {
        const damaged = Buffer.from(original);
        damaged[at] = (damaged[at] ?? 0) ^ 0x10;
        await writeFile(segmentPath(dir), damaged);
        await expect(openStore(dir)).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
        await expect(openStore(dir)).rejects.toThrow(/log-00000001\.seg at offset 0: .*valid entries follow/);
      }
      // The refusal changed nothing: the undamaged log still opens whole.
      await writeFile(segmentPath(dir), original);
      await expectIntact(dir, ['r0', 'r1', 'r2']);
    });
  });

  it('treats a damaged last entry as a torn tail and never serves it', async () => {
    await withTempDir(async (dir) => {
      const original = await writeLog(dir, false);
      const [start, end] = entryBounds(original).at(-1)!;
      const damaged = Buffer.from(original);
      damaged[end - 100] = (damaged[end - 100] ?? 0) ^ 0x01;
      await writeFile(segmentPath(dir), damaged);
      const store = await openStore(dir);
      expect(store.recoveryEvents).toEqual([
        expect.objectContaining({ offset: start, reason: 'checksum mismatch' }),
      ]);
      expect((await store.getSealed(TEST_INDEX.id, ['r2'])).size).toBe(0);
      await store.close();
    });
  });

  it('refuses to serve bytes that change on disk after open', async () => {
    await withTempDir(async (dir) => {
      const original = await writeLog(dir, false);
      const store = await openStore(dir);
      const [first] = entryBounds(original);
      const damaged = Buffer.from(original);
      // r0's sealed bytes start after the header, id, block id, slot and sealed length.
      const sealedAt = first![0] + ENTRY_HEADER_BYTES + 1 + 2 + 4 + 1 + 4;
      damaged[sealedAt + 5] = (damaged[sealedAt + 5] ?? 0) ^ 0x80;
      damaged[first![1] - 3] = (damaged[first![1] - 3] ?? 0) ^ 0x80;
      await writeFile(segmentPath(dir), damaged);
      await expect(store.getSealed(TEST_INDEX.id, ['r0'])).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
      await expect(store.getVector(TEST_INDEX.id, 'r0')).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
      expect((await store.getSealed(TEST_INDEX.id, ['r1'])).get('r1')).toEqual(sealedFor('r1'));
      await store.close();
    });
  });

  it('discards an index creation that crashed before its rename', async () => {
    await withTempDir(async (dir) => {
      await writeLog(dir, false);
      await mkdir(join(dir, 'indexes', '.staging-team-b-0000'));
      await writeFile(join(dir, 'indexes', TEST_INDEX.id, '.tmp-abc'), 'partial');
      const store = await openStore(dir);
      expect((await store.listIndexes()).map((d) => d.id)).toEqual([TEST_INDEX.id]);
      await store.close();
      expect(await readdir(join(dir, 'indexes'))).toEqual([TEST_INDEX.id]);
      expect(await readdir(join(dir, 'indexes', TEST_INDEX.id))).not.toContain('.tmp-abc');
    });
  });

  it('refuses to open an index whose metadata is damaged', async () => {
    await withTempDir(async (dir) => {
      await writeLog(dir, false);
      await writeFile(join(dir, 'indexes', TEST_INDEX.id, 'meta.json'), '{"formatVersion":1');
      await expect(openStore(dir)).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
    });
  });
});
