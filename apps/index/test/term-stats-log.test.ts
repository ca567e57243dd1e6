import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IndexError } from '../src/errors.js';
import { TERM_STATS_LOG_FILE, TermStatsLog, encodeEntry } from '../src/storage/term-stats-log.js';

const dirs: string[] = [];
const logs: TermStatsLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rune-ts-log-'));
  dirs.push(dir);
  return dir;
}

async function openLog(dir: string): Promise<TermStatsLog> {
  const log = await TermStatsLog.open(dir);
  logs.push(log);
  return log;
}

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

async function codeOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'NO_ERROR';
  } catch (err: unknown) {
    return err instanceof IndexError ? err.code : String(err);
  }
}

describe('term-stats log', () => {
  it('numbers deltas from 1 and reads pages after a sequence', async () => {
    const log = await openLog(await freshDir());
    expect(await log.append('capture', 'rec_a', bytes(100, 1))).toBe(1);
    expect(await log.append('capture', 'rec_b', bytes(100, 2))).toBe(2);
    expect(await log.append('forget', 'rec_a', bytes(100, 3))).toBe(3);
    const page = await log.read(1, 10, 1 << 20);
    expect(page.lastSeq).toBe(3);
    expect(page.deltas.map((d) => [d.seq, d.kind, d.recordId, d.sealed[0]])).toEqual([
      [2, 'capture', 'rec_b', 2],
      [3, 'forget', 'rec_a', 3],
    ]);
    expect((await log.read(0, 1, 1 << 20)).deltas).toHaveLength(1);
  });

  it('refuses a second delta of the same kind for the same record (replayed append)', async () => {
    const log = await openLog(await freshDir());
    await log.append('capture', 'rec_a', bytes(100, 1));
    expect(await codeOf(log.append('capture', 'rec_a', bytes(100, 9)))).toBe('REPLAYED');
    expect(log.lastSeq).toBe(1);
  });

  it('keeps every delta across a reopen, replay protection included, with mode 0600', async () => {
    const dir = await freshDir();
    const first = await TermStatsLog.open(dir);
    await first.append('capture', 'rec_a', bytes(100, 1));
    await first.append('capture', 'rec_b', bytes(300, 2));
    await first.close();
    expect((await stat(join(dir, TERM_STATS_LOG_FILE))).mode & 0o777).toBe(0o600);
    const log = await openLog(dir);
    expect(log.lastSeq).toBe(2);
    expect(await codeOf(log.append('capture', 'rec_b', bytes(100, 1)))).toBe('REPLAYED');
    expect(await log.append('capture', 'rec_c', bytes(100, 3))).toBe(3);
    expect((await log.read(2, 10, 1 << 20)).deltas[0]?.recordId).toBe('rec_c');
  });

  it('cuts a torn tail (a crash mid-append) and goes on from the last whole entry', async () => {
    const dir = await freshDir();
    const first = await TermStatsLog.open(dir);
    await first.append('capture', 'rec_a', bytes(100, 1));
    await first.close();
    const path = join(dir, TERM_STATS_LOG_FILE);
    const whole = (await stat(path)).size;
    const torn = encodeEntry({ seq: 2, kind: 'capture', recordId: 'rec_b', sealed: bytes(100, 2) });
    await appendFile(path, torn.subarray(0, 50));
    const log = await openLog(dir);
    expect(log.lastSeq).toBe(1);
    expect((await stat(path)).size).toBe(whole);
    expect(await log.append('capture', 'rec_b', bytes(100, 2))).toBe(2);
  });

  it('refuses to open when a bad entry precedes valid ones (STORAGE_CORRUPT)', async () => {
    const dir = await freshDir();
    const first = await TermStatsLog.open(dir);
    await first.append('capture', 'rec_a', bytes(100, 1));
    await first.append('capture', 'rec_b', bytes(100, 2));
    await first.close();
    const path = join(dir, TERM_STATS_LOG_FILE);
    const data = await readFile(path);
    data[40] = (data[40] ?? 0) ^ 0x01;
    await writeFile(path, data);
    expect(await codeOf(TermStatsLog.open(dir))).toBe('STORAGE_CORRUPT');
  });

  it('cuts a flipped bit in the last entry as a torn tail', async () => {
    const dir = await freshDir();
    const first = await TermStatsLog.open(dir);
    await first.append('capture', 'rec_a', bytes(100, 1));
    await first.append('capture', 'rec_b', bytes(100, 2));
    await first.close();
    const path = join(dir, TERM_STATS_LOG_FILE);
    const data = await readFile(path);
    data[data.byteLength - 3] = (data[data.byteLength - 3] ?? 0) ^ 0x01;
    await writeFile(path, data);
    expect((await openLog(dir)).lastSeq).toBe(1);
  });
});
