import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import {
  appendFile,
  mkdir,
  readFile,
  readdir,
  rename,
  rmdir,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeJournalLine, openForScrub, scrubAndClose } from '../src/search/ledger-journal.js';
import { type LedgerRecord, LedgerSet, type NewLedgerRecord } from '../src/search/record-ledger.js';
import { caught, expectCode, tempDir } from './helpers.js';

const INDEX_ID = 'idx_journal';
const DIM = 32;

let counter = 0;
function newRecord(): NewLedgerRecord {
  counter++;
  return {
    recordId: `rec_${counter}`,
    nonce: randomBytes(32).toString('base64url'),
    authorMemberId: 'mem_alice',
    isCanary: false,
    createdAt: 1_700_000_000_000 + counter,
  };
}

function newCanary(): NewLedgerRecord {
  counter++;
  return {
    recordId: `can_${counter}`,
    authorMemberId: 'vault',
    isCanary: true,
    canary: {
      vector: randomBytes(DIM * 4).toString('base64url'),
      ciphertextSha256: randomBytes(32).toString('base64url'),
      isConfirmed: false,
    },
    createdAt: 1_700_000_000_000 + counter,
  };
}

async function setup() {
  const dataDir = await tempDir();
  const ledger = new LedgerSet(dataDir).register({ indexId: INDEX_ID, paramSetId: 1, dim: DIM, epoch: 0 });
  const dir = join(dataDir, 'search');
  return {
    dataDir,
    ledger,
    snapshotPath: join(dir, `ledger-${INDEX_ID}.json`),
    journalPath: join(dir, `ledger-${INDEX_ID}.journal`),
    reopen: () => new LedgerSet(dataDir).get(INDEX_ID),
    /** Every file in the ledger directory, temp files included, as text. */
    allFiles: async () =>
      Promise.all((await readdir(dir)).map(async (name) => readFile(join(dir, name), 'utf8'))),
  };
}

async function journalLines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((line) => line !== '');
}

function entryOf(line: string): { seq: number; op: string } {
  return (JSON.parse(line) as { entry: { seq: number; op: string } }).entry;
}

async function snapshotOf(
  path: string,
): Promise<{ journalSeq: number; version: number; records: unknown[] }> {
  return JSON.parse(await readFile(path, 'utf8')) as {
    journalSeq: number;
    version: number;
    records: unknown[];
  };
}

describe('record ledger journal: persistence', () => {
  it('reloads the same state after many allocations and confirmations', async () => {
    const { ledger, reopen } = await setup();
    const canaryIds: string[] = [];
    for (let i = 0; i < 300; i++) {
      const [record] = ledger.allocate([i % 50 === 0 ? newCanary() : newRecord()]);
      if (record?.isCanary === true) canaryIds.push(record.recordId);
    }
    ledger.allocate([newRecord(), newRecord(), newRecord()]);
    ledger.confirmCanary(canaryIds[1]!);
    ledger.confirmCanary(canaryIds[4]!);

    const reloaded = reopen();
    expect(reloaded.records()).toEqual(ledger.records());
    expect(reloaded.canaryCount()).toBe(6);
    expect(reloaded.blockCount).toBe(ledger.blockCount);
    expect(reloaded.get(canaryIds[1]!)?.canary?.isConfirmed).toBe(true);
    expect(reloaded.get(canaryIds[2]!)?.canary?.isConfirmed).toBe(false);
    expect(reloaded.at(2, 0)).toEqual(ledger.at(2, 0));
    expect(reloaded.allocate([newRecord()])[0]).toMatchObject({ blockId: 2, slot: 303 - 256 });
  });

  it('appends one checksummed, sequenced line (mode 0600) per mutation and keeps the snapshot compact', async () => {
    const { ledger, snapshotPath, journalPath } = await setup();
    ledger.allocate([newRecord()]);
    const [canary] = ledger.allocate([newCanary(), newRecord()]);
    ledger.confirmCanary(canary!.recordId);
    ledger.confirmCanary(canary!.recordId); // already confirmed: nothing to write

    const lines = await journalLines(journalPath);
    expect(lines.map(entryOf).map((e) => [e.seq, e.op])).toEqual([
      [1, 'allocate'],
      [2, 'allocate'],
      [3, 'confirm'],
    ]);
    for (const line of lines) expect(line).toMatch(/^\{"sum":"[0-9a-f]{16}","entry":\{"seq":\d+,"op":"/);
    expect((await stat(journalPath)).mode & 0o777).toBe(0o600);
    expect((await stat(snapshotPath)).mode & 0o777).toBe(0o600);
    const snapshotText = await readFile(snapshotPath, 'utf8');
    expect(snapshotText.trimEnd()).not.toContain('\n');
    expect(await snapshotOf(snapshotPath)).toMatchObject({ version: 2, journalSeq: 0, records: [] });
  });

  it('changes nothing when the journal append fails, and appends in sequence once it works again', async () => {
    const { ledger, journalPath, reopen } = await setup();
    ledger.allocate([newRecord()]);
    // A directory where the journal was: the append's open fails.
    await rename(journalPath, `${journalPath}.aside`);
    await mkdir(journalPath);
    const attempt = newRecord();
    expectCode(await caught(() => ledger.allocate([attempt])), 'STORAGE_FAILED');
    expect(ledger.get(attempt.recordId)).toBeUndefined();
    expect(ledger.records()).toHaveLength(1);

    await rmdir(journalPath);
    await rename(`${journalPath}.aside`, journalPath);
    expect(ledger.allocate([newRecord()])[0]).toMatchObject({ slot: 1 });
    expect((await journalLines(journalPath)).map(entryOf).map((e) => e.seq)).toEqual([1, 2]);
    expect(reopen().records()).toEqual(ledger.records());
  });

  it('refuses a version-2 snapshot whose journal is missing instead of losing its entries', async () => {
    const { ledger, journalPath, reopen } = await setup();
    ledger.allocate([newRecord()]);
    await unlink(journalPath);
    const err = await caught(() => reopen());
    expectCode(err, 'STATE_CORRUPT');
    expect(err.reason).toBe('the journal is missing');
  });

  it('loads a version-1 snapshot without journalSeq or journal, then journals from sequence 1', async () => {
    const { snapshotPath, journalPath, reopen } = await setup();
    const v1 = {
      version: 1,
      indexId: INDEX_ID,
      paramSetId: 1,
      dim: DIM,
      epoch: 0,
      nextSlot: 1,
      records: [{ ...newRecord(), blockId: 0, slot: 0, status: 'live' }],
    };
    await writeFile(snapshotPath, JSON.stringify(v1, null, 2));
    await unlink(journalPath);

    const ledger = reopen();
    expect(ledger.records()).toHaveLength(1);
    expect((await stat(journalPath)).mode & 0o777).toBe(0o600);
    ledger.allocate([newRecord()]);
    expect((await journalLines(journalPath)).map(entryOf).map((e) => e.seq)).toEqual([1]);
    expect(reopen().records()).toEqual(ledger.records());
  });
});

describe('record ledger journal: crash and corruption', () => {
  it('drops a torn last line, which was never acknowledged, and appends cleanly after it', async () => {
    const { ledger, journalPath, reopen } = await setup();
    for (let i = 0; i < 3; i++) ledger.allocate([newRecord()]);
    const unacknowledged = { ...newRecord(), blockId: 0, slot: 3, status: 'live' } as const;
    const line = encodeJournalLine(4, { op: 'allocate', records: [unacknowledged] });
    await appendFile(journalPath, line.slice(0, Math.floor(line.length / 2)));

    const reloaded = reopen();
    expect(reloaded.records()).toEqual(ledger.records());
    expect(reloaded.get(unacknowledged.recordId)).toBeUndefined();
    // The torn bytes are gone, so the next line does not land behind them.
    const next = reloaded.allocate([newRecord()]);
    expect(next[0]).toMatchObject({ slot: 3 });
    expect(reopen().records()).toEqual(reloaded.records());
  });

  it('refuses a corrupted line in the middle (STATE_CORRUPT) and leaves the files untouched', async () => {
    const { ledger, journalPath, snapshotPath, reopen } = await setup();
    for (let i = 0; i < 3; i++) ledger.allocate([newRecord()]);
    const lines = await journalLines(journalPath);
    lines[1] = lines[1]!.replace('mem_alice', 'mem_mallo');
    const tampered = `${lines.join('\n')}\n`;
    await writeFile(journalPath, tampered);
    const snapshotBefore = await readFile(snapshotPath, 'utf8');

    const err = await caught(() => reopen());
    expectCode(err, 'STATE_CORRUPT');
    expect(err.message).toContain('line 2');
    expect(err.reason).toBe('checksum mismatch');
    expect(await readFile(journalPath, 'utf8')).toBe(tampered);
    expect(await readFile(snapshotPath, 'utf8')).toBe(snapshotBefore);
  });

  it('refuses a damaged last line that is complete: it may have been acknowledged', async () => {
    const { ledger, journalPath, reopen } = await setup();
    for (let i = 0; i < 2; i++) ledger.allocate([newRecord()]);
    const text = await readFile(journalPath, 'utf8');
    await writeFile(journalPath, `${text.slice(0, -10)}x${text.slice(-9)}`);
    expectCode(await caught(() => reopen()), 'STATE_CORRUPT');
  });

  it('refuses a gap in the sequence, inside the journal or after the snapshot', async () => {
    const { ledger, journalPath, reopen } = await setup();
    for (let i = 0; i < 3; i++) ledger.allocate([newRecord()]);
    const lines = await journalLines(journalPath);
    await writeFile(journalPath, `${lines[0]!}\n${lines[2]!}\n`);
    const inside = await caught(() => reopen());
    expectCode(inside, 'STATE_CORRUPT');
    expect(inside.reason).toBe('sequence 3 follows 1');

    await writeFile(journalPath, `${lines[1]!}\n${lines[2]!}\n`);
    const after = await caught(() => reopen());
    expectCode(after, 'STATE_CORRUPT');
    expect(after.reason).toBe('sequence 2, but the snapshot ends at 0');
  });

  it('refuses a well-formed line that breaks a ledger invariant', async () => {
    const { journalPath, reopen } = await setup();
    // A tombstoned record that still holds a nonce would undo crypto-shredding.
    const unshredded = {
      ...newRecord(),
      blockId: 0,
      slot: 0,
      status: 'tombstoned',
    } as unknown as LedgerRecord;
    await writeFile(journalPath, encodeJournalLine(1, { op: 'allocate', records: [unshredded] }));
    expectCode(await caught(() => reopen()), 'STATE_CORRUPT');

    const skipped = { ...newRecord(), blockId: 0, slot: 5, status: 'live' } as const;
    await writeFile(journalPath, encodeJournalLine(1, { op: 'allocate', records: [skipped] }));
    expectCode(await caught(() => reopen()), 'STATE_CORRUPT');

    await writeFile(journalPath, encodeJournalLine(1, { op: 'confirm', recordId: 'rec_none' }));
    expectCode(await caught(() => reopen()), 'STATE_CORRUPT');
  });

  it('skips lines a cut-short compaction already folded into the snapshot, then clears them', async () => {
    const { ledger, journalPath, snapshotPath, reopen } = await setup();
    ledger.allocate([newRecord()]);
    const gone = ledger.allocate([newRecord()])[0]!;
    const staleJournal = await readFile(journalPath, 'utf8');
    ledger.tombstone(gone.recordId, 1_800_000_000_000);
    // A crash after the snapshot was written but before the journal was replaced.
    await writeFile(journalPath, staleJournal);

    const reloaded = reopen();
    expect(reloaded.records()).toEqual(ledger.records());
    expect(reloaded.get(gone.recordId)?.nonce).toBeUndefined();
    expect(await readFile(journalPath, 'utf8')).toBe('');
    expect(await readFile(snapshotPath, 'utf8')).not.toContain(gone.nonce!);
    reloaded.allocate([newRecord()]);
    expect((await journalLines(journalPath)).map(entryOf).map((e) => e.seq)).toEqual([3]);
  });
});

describe('record ledger journal: compaction', () => {
  it('folds the journal into the snapshot once it passes 1024 entries', async () => {
    const { ledger, journalPath, snapshotPath, reopen } = await setup();
    for (let i = 0; i < 16; i++) ledger.allocate(Array.from({ length: 64 }, newRecord));
    expect(await journalLines(journalPath)).toHaveLength(16); // 1024 entries: not past the threshold
    expect((await snapshotOf(snapshotPath)).records).toHaveLength(0);

    ledger.allocate(Array.from({ length: 64 }, newRecord));
    expect(await readFile(journalPath, 'utf8')).toBe('');
    expect(await snapshotOf(snapshotPath)).toMatchObject({ journalSeq: 17 });
    expect((await snapshotOf(snapshotPath)).records).toHaveLength(1088);

    ledger.allocate([newRecord()]);
    expect((await journalLines(journalPath)).map(entryOf).map((e) => e.seq)).toEqual([18]);
    expect(reopen().records()).toEqual(ledger.records());
  });

  it('lets the journal grow to a quarter of the records before compacting a large ledger', async () => {
    const { ledger, journalPath, snapshotPath, reopen } = await setup();
    ledger.allocate(Array.from({ length: 8000 }, newRecord)); // past 1024: compacted at once
    expect(await readFile(journalPath, 'utf8')).toBe('');
    // Compacts when entries > records/4, i.e. 100·j > (8000 + 100·j)/4: at j = 27.
    for (let j = 1; j <= 26; j++) ledger.allocate(Array.from({ length: 100 }, newRecord));
    expect(await journalLines(journalPath)).toHaveLength(26);
    ledger.allocate(Array.from({ length: 100 }, newRecord));
    expect(await readFile(journalPath, 'utf8')).toBe('');
    expect((await snapshotOf(snapshotPath)).records).toHaveLength(10_700);
    expect(reopen().records()).toEqual(ledger.records());
  });
});

describe('record ledger journal: crypto-shredding', () => {
  it('leaves the nonce of a tombstoned record in no file: snapshot, journal or temp file', async () => {
    const { ledger, allFiles, reopen } = await setup();
    // One record folded into the snapshot by a compaction, one only in the journal.
    const inSnapshot = ledger.allocate(Array.from({ length: 1100 }, newRecord))[7]!;
    const inJournal = ledger.allocate([newRecord()])[0]!;
    const kept = ledger.allocate([newRecord()])[0]!;
    const files = async () => (await allFiles()).join('\n');
    expect(await files()).toContain(inSnapshot.nonce!);
    expect(await files()).toContain(inJournal.nonce!);

    ledger.tombstone(inJournal.recordId, 1_800_000_000_000);
    ledger.tombstone(inSnapshot.recordId, 1_800_000_000_001);

    const after = await files();
    expect(after).not.toContain(inJournal.nonce!);
    expect(after).not.toContain(inSnapshot.nonce!);
    expect(after).toContain(kept.nonce!);
    const reloaded = reopen();
    expect(reloaded.get(inJournal.recordId)).toMatchObject({ status: 'tombstoned' });
    expect(reloaded.get(inJournal.recordId)?.nonce).toBeUndefined();
    expect(reloaded.get(inSnapshot.recordId)?.nonce).toBeUndefined();
    expect(reloaded.get(kept.recordId)?.nonce).toBe(kept.nonce);
  });

  it('counts live canaries without rescanning: an abandoned (tombstoned) one no longer counts', async () => {
    const { ledger, reopen } = await setup();
    ledger.allocate([newCanary(), newRecord(), newCanary()]);
    const [canary] = ledger.allocate([newCanary()]);
    expect(ledger.canaryCount()).toBe(3);
    ledger.tombstone(canary!.recordId, 1_800_000_000_000);
    expect(ledger.canaryCount()).toBe(2);
    ledger.tombstone(canary!.recordId, 1_800_000_000_000);
    expect(ledger.canaryCount()).toBe(2);
    expect(reopen().canaryCount()).toBe(2);
  });
});

describe('record ledger journal: scrubbing replaced files', () => {
  it('zeroes a replaced (unlinked) file through the descriptor kept open, and never a linked one', async () => {
    const dir = await tempDir();
    const secret = randomBytes(4096).toString('base64url');
    const replaced = join(dir, 'replaced');
    await writeFile(replaced, secret);
    const reader = openSync(replaced, 'r');
    const scrubbed = openForScrub(replaced);
    await unlink(replaced);
    scrubAndClose(scrubbed);
    const back = Buffer.alloc(secret.length);
    readSync(reader, back, 0, back.length, 0);
    closeSync(reader);
    expect(back.equals(Buffer.alloc(secret.length))).toBe(true);

    const linked = join(dir, 'linked');
    await writeFile(linked, secret);
    scrubAndClose(openForScrub(linked));
    expect(await readFile(linked, 'utf8')).toBe(secret);
  });
});
