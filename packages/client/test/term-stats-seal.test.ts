import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TermStats } from '@rune/embed';
import { afterEach, describe, expect, it } from 'vitest';
import {
  loadCountsInto,
  readTermStatsCache,
  termStatsCachePath,
  writeTermStatsCache,
} from '../src/term-stats-cache.js';
import {
  MAX_DELTA_TERMS,
  TERM_STATS_BUCKETS,
  TERM_STATS_SEAL_OVERHEAD,
  type DeltaBinding,
  openTermStatsDelta,
  sealTermStatsDelta,
} from '../src/term-stats-seal.js';

const KEY = randomBytes(32);
const BINDING: DeltaBinding = { indexId: 'team', recordId: 'rec_abc', kind: 'capture' };
const TERMS = Uint32Array.from([7, 3, 0xffff_ffff, 3, 12]);

function sealed(terms = TERMS): Uint8Array {
  return sealTermStatsDelta(KEY, BINDING, { documents: 1, terms });
}

function refusalOf(result: ReturnType<typeof openTermStatsDelta>): string | undefined {
  return 'refusal' in result ? result.refusal : undefined;
}

describe('sealed term-stats deltas', () => {
  it('round-trips distinct, sorted term hashes', () => {
    const opened = openTermStatsDelta(KEY, BINDING, sealed());
    expect('delta' in opened && opened.delta.documents).toBe(1);
    expect('delta' in opened && [...opened.delta.terms]).toEqual([3, 7, 12, 0xffff_ffff]);
  });

  it('pads every delta to a size bucket, so only the bucket leaks', () => {
    const few = sealed(Uint32Array.from([1]));
    const more = sealed(Uint32Array.from({ length: 14 }, (_, i) => i));
    expect(few.byteLength).toBe(TERM_STATS_SEAL_OVERHEAD + TERM_STATS_BUCKETS[0]);
    expect(more.byteLength).toBe(few.byteLength);
    const bigger = sealed(Uint32Array.from({ length: 15 }, (_, i) => i));
    expect(bigger.byteLength).toBe(TERM_STATS_SEAL_OVERHEAD + TERM_STATS_BUCKETS[1]);
  });

  it('caps a huge document at MAX_DELTA_TERMS lowest hashes in the largest bucket', () => {
    const huge = Uint32Array.from({ length: MAX_DELTA_TERMS + 100 }, (_, i) => i * 3);
    const opened = openTermStatsDelta(KEY, BINDING, sealed(huge));
    expect('delta' in opened && opened.delta.terms.length).toBe(MAX_DELTA_TERMS);
  });

  it('refuses a flipped bit anywhere', () => {
    const bytes = sealed();
    for (const at of [0, 1, 20, bytes.byteLength - 1]) {
      const copy = Uint8Array.from(bytes);
      copy[at] = (copy[at] ?? 0) ^ 1;
      expect(refusalOf(openTermStatsDelta(KEY, BINDING, copy))).toBeDefined();
    }
  });

  it('refuses the wrong key, a truncation, another record and another kind', () => {
    const bytes = sealed();
    expect(refusalOf(openTermStatsDelta(randomBytes(32), BINDING, bytes))).toMatch(/authentication/);
    expect(
      refusalOf(openTermStatsDelta(KEY, BINDING, bytes.subarray(0, bytes.byteLength - 1))),
    ).toBeDefined();
    expect(refusalOf(openTermStatsDelta(KEY, BINDING, bytes.subarray(0, 40)))).toMatch(/bucket/);
    expect(refusalOf(openTermStatsDelta(KEY, { ...BINDING, recordId: 'rec_other' }, bytes))).toBeDefined();
    expect(refusalOf(openTermStatsDelta(KEY, { ...BINDING, kind: 'forget' }, bytes))).toBeDefined();
    expect(refusalOf(openTermStatsDelta(KEY, { ...BINDING, indexId: 'other' }, bytes))).toBeDefined();
  });

  it('refuses to seal a −1 under a capture binding', () => {
    expect(() => sealTermStatsDelta(KEY, BINDING, { documents: -1, terms: TERMS })).toThrow(TypeError);
  });
});

describe('term-stats cache', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('writes 0600 and reads back counts, sequence and applied ids', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rune-ts-cache-'));
    dirs.push(dir);
    const path = termStatsCachePath(dir, { vaultUrl: 'https://v', indexUrl: 'https://i', indexId: 'team' });
    const stats = new TermStats();
    stats.apply({ documents: 1, terms: Uint32Array.from([1, 2]) });
    stats.apply({ documents: 1, terms: Uint32Array.from([2]) });
    await writeTermStatsCache(path, 'team', { seq: 9, stats, applied: new Set(['capture:rec_a']) });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const back = await readTermStatsCache(path, 'team');
    if (back === undefined || 'unreadable' in back) throw new Error('cache did not read back');
    expect(back.seq).toBe(9);
    expect(back.stats.toJSON()).toEqual(stats.toJSON());
    expect([...back.applied]).toEqual(['capture:rec_a']);
    expect(await readTermStatsCache(path, 'other')).toHaveProperty('unreadable');
    await writeFile(path, '{"v":1');
    expect(await readTermStatsCache(path, 'team')).toHaveProperty('unreadable');
    expect(JSON.stringify(await readFile(path, 'utf8'))).not.toContain('insight');
  });

  it('loads cached counts into an empty TermStats exactly', () => {
    const source = new TermStats();
    source.apply({ documents: 1, terms: Uint32Array.from([1, 2, 3]) });
    source.apply({ documents: 1, terms: Uint32Array.from([2, 3]) });
    source.apply({ documents: 1, terms: Uint32Array.from([3, 9]) });
    const target = new TermStats();
    loadCountsInto(target, source);
    expect(target.toJSON()).toEqual(source.toJSON());
  });
});
