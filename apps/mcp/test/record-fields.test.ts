import { describe, expect, it } from 'vitest';
import { decodeRecordPayload, encodeRecordPayload } from '../../../packages/client/src/record-payload.js';

const encoder = new TextEncoder();

describe('record payload fields for memory semantics', () => {
  it('round-trips domain, status and supersedes', () => {
    const record = {
      v: 1,
      insight: 'use idempotency keys',
      createdAt: 5,
      domain: 'payments',
      status: 'accepted',
      supersedes: 'r_1',
    } as const;
    expect(decodeRecordPayload(encodeRecordPayload(record), 'r_2')).toEqual(record);
  });

  it('still reads a version-1 record written before the fields existed', () => {
    const old = { v: 1, insight: 'old memory', title: 't', tags: ['a'], author: 'm1', createdAt: 7 };
    expect(decodeRecordPayload(encoder.encode(JSON.stringify(old)), 'r_3')).toEqual(old);
  });

  it('refuses an unknown status or a malformed successor id before sealing', () => {
    expect(() =>
      encodeRecordPayload({ v: 1, insight: 'x', createdAt: 1, status: 'maybe' as 'accepted' }),
    ).toThrow(/status/);
    expect(() => encodeRecordPayload({ v: 1, insight: 'x', createdAt: 1, supersedes: 'no spaces' })).toThrow(
      /supersedes/,
    );
  });
});

describe('a record from a newer client', () => {
  it('drops a status or successor value this client does not know, keeping the memory readable', () => {
    const newer = { v: 1, insight: 'x', createdAt: 1, status: 'superseded', supersedes: 'a b', domain: 'ci' };
    expect(decodeRecordPayload(encoder.encode(JSON.stringify(newer)), 'r_4')).toEqual({
      v: 1,
      insight: 'x',
      createdAt: 1,
      domain: 'ci',
    });
  });
});
