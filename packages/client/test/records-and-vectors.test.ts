import { describe, expect, it } from 'vitest';
import {
  MAX_RECORD_JSON_BYTES,
  RECORD_PAD_BYTES,
  float32ToLeBytes,
  type RecordPayload,
} from '../src/index.js';
import { RecordIdPool, shuffle } from '../src/record-id-pool.js';
import { decodeRecordPayload, encodeRecordPayload } from '../src/record-payload.js';
import { unitVector } from '../src/vectors.js';
import { permitGrantSchema, parseAnswer, decodeField } from '../src/wire.js';
import { caught } from './helpers.js';

const RECORD: RecordPayload = {
  v: 1,
  insight: 'use idempotency keys',
  tags: ['payments'],
  createdAt: 1_700_000_000_000,
};

describe('record payloads', () => {
  it('round-trip through their sealed JSON form, dropping fields this client does not know', () => {
    expect(decodeRecordPayload(encodeRecordPayload(RECORD), 'rec_1')).toEqual(RECORD);
    const newer = new TextEncoder().encode(JSON.stringify({ ...RECORD, status: 'superseded' }));
    expect(decodeRecordPayload(newer, 'rec_1')).toEqual(RECORD);
  });

  it('pads the sealed form to 512-byte buckets, so the index sees a size bucket, not a length', () => {
    const short = encodeRecordPayload(RECORD);
    const longer = encodeRecordPayload({ ...RECORD, insight: 'x'.repeat(600) });
    expect(short.byteLength).toBe(RECORD_PAD_BYTES);
    expect(longer.byteLength).toBe(2 * RECORD_PAD_BYTES);
    expect(encodeRecordPayload({ ...RECORD, insight: 'use idempotency keys!' }).byteLength).toBe(
      short.byteLength,
    );
    // The largest record still fits the index's 256 KiB sealed-record limit with the seal's overhead.
    expect(MAX_RECORD_JSON_BYTES + 29).toBeLessThanOrEqual(256 * 1024);
  });

  it('refuses to seal an invalid or oversized record with INVALID_ARGUMENT', async () => {
    expect((await caught(() => encodeRecordPayload({ ...RECORD, insight: '' }))).code).toBe(
      'INVALID_ARGUMENT',
    );
    // Within every field limit, but 3-byte characters push the JSON past MAX_RECORD_JSON_BYTES.
    const wide = { ...RECORD, insight: '数'.repeat(32 * 1024), context: '据'.repeat(64 * 1024) };
    expect((await caught(() => encodeRecordPayload(wide))).code).toBe('INVALID_ARGUMENT');
  });

  it('reports an authentic record of another layout as RECORD_UNREADABLE', async () => {
    for (const text of ['not json', JSON.stringify({ v: 2, insight: 'x', createdAt: 0 }), '\uFFFF']) {
      const bytes = new TextEncoder().encode(text);
      expect((await caught(() => decodeRecordPayload(bytes, 'rec_1'))).code).toBe('RECORD_UNREADABLE');
    }
    const invalidUtf8 = Uint8Array.of(0xff, 0xfe);
    expect((await caught(() => decodeRecordPayload(invalidUtf8, 'rec_1'))).code).toBe('RECORD_UNREADABLE');
  });
});

describe('vectors', () => {
  it('normalises to unit length and refuses a wrong dimension or a zero vector', async () => {
    const v = unitVector([3, 4], 2, 'query');
    expect(Math.hypot(v[0]!, v[1]!)).toBeCloseTo(1, 6);
    expect((await caught(() => unitVector([1, 2, 3], 2, 'query'))).code).toBe('INVALID_ARGUMENT');
    expect((await caught(() => unitVector([0, 0], 2, 'query'))).code).toBe('INVALID_ARGUMENT');
  });

  it('serialises queries as little-endian float32', () => {
    expect(Array.from(float32ToLeBytes(Float32Array.of(1, -2)))).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
  });
});

describe('service answers', () => {
  it('refuses a malformed Vault answer with VAULT_RESPONSE_INVALID', async () => {
    const err = await caught(() =>
      parseAnswer(permitGrantSchema, { permit: {}, recordId: 'r' }, 'vault', 'permit'),
    );
    expect(err).toMatchObject({ code: 'VAULT_RESPONSE_INVALID', service: 'vault' });
    expect((await caught(() => decodeField('vault', 'AB=', 'recordKey'))).code).toBe(
      'VAULT_RESPONSE_INVALID',
    );
  });
});

describe('RecordIdPool', () => {
  it('samples distinct ids outside the exclusions and forgets the oldest beyond capacity', () => {
    const pool = new RecordIdPool(3);
    for (const id of ['a', 'b', 'c', 'd']) pool.add(id);
    expect(pool.size).toBe(3);
    const sample = pool.sample(5, new Set(['c']));
    expect(sample.sort()).toEqual(['b', 'd']);
    pool.delete('b');
    expect(pool.sample(5, new Set())).not.toContain('b');
  });

  it('shuffles in place into a permutation', () => {
    const items = Array.from({ length: 50 }, (_, i) => `id${i}`);
    expect([...shuffle([...items])].sort()).toEqual([...items].sort());
  });
});
