import { describe, expect, it } from 'vitest';
import {
  MAX_BLOCKS_PER_SEARCH,
  ProtocolError,
  isProtocolError,
  capturePermitSchema,
  decodeBase64url,
  envelopeSchema,
  insertReceiptSchema,
  searchResultSchema,
  searchTicketSchema,
} from '../src/index.js';
import { expectCode, samplePayloads } from './helpers.js';

const p = samplePayloads();

describe('payload schemas', () => {
  it('accept the sample of every kind', () => {
    expect(capturePermitSchema.safeParse(p['capture-permit']).success).toBe(true);
    expect(searchTicketSchema.safeParse(p['search-ticket']).success).toBe(true);
    expect(searchResultSchema.safeParse(p['search-result']).success).toBe(true);
    expect(insertReceiptSchema.safeParse(p['insert-receipt']).success).toBe(true);
  });

  it.each([
    ['an id with a slash', { recordId: 'a/b' }],
    ['an empty id', { indexId: '' }],
    ['a 65-character id', { recordId: 'x'.repeat(65) }],
    ['slot 128', { slot: 128 }],
    ['a negative block id', { blockId: -1 }],
    ['a block id beyond u32', { blockId: 2 ** 32 }],
    ['a fractional epoch', { epoch: 1.5 }],
    ['paramSetId 0', { paramSetId: 0 }],
    ['dimension 0', { dim: 0 }],
    ['a numeric string', { dim: '384' }],
    ['a short nonce', { nonce: 'AAEC' }],
    ['a padded nonce', { nonce: 'AAECAwQFBgcICQoLDA0ODw==' }],
    ['a nonce in the standard alphabet', { nonce: '+AECAwQFBgcICQoLDA0ODw' }],
    ['version 2', { v: 2 }],
    ['an extra field', { memberId: 'm' }],
  ])('refuse a capture permit with %s', (_name, change) => {
    expect(capturePermitSchema.safeParse({ ...p['capture-permit'], ...change }).success).toBe(false);
  });

  it('refuse a ticket with k out of range or an extra field in its expected shape', () => {
    const ticket = p['search-ticket'];
    expect(searchTicketSchema.safeParse({ ...ticket, k: 0 }).success).toBe(false);
    expect(searchTicketSchema.safeParse({ ...ticket, k: 101 }).success).toBe(false);
    expect(
      searchTicketSchema.safeParse({ ...ticket, expected: { ...ticket.expected, slots: 128 } }).success,
    ).toBe(false);
    expect(searchTicketSchema.safeParse({ ...ticket, expected: { blockCount: 3 } }).success).toBe(false);
  });

  it('refuse a result that repeats or reorders a block id, or lists too many blocks', () => {
    const result = p['search-result'];
    const [a, b] = result.blocks;
    expect(searchResultSchema.safeParse({ ...result, blocks: [a, a] }).success).toBe(false);
    expect(searchResultSchema.safeParse({ ...result, blocks: [b, a] }).success).toBe(false);
    const many = Array.from({ length: MAX_BLOCKS_PER_SEARCH + 1 }, (_, blockId) => ({
      blockId,
      sha256: a!.sha256,
    }));
    expect(searchResultSchema.safeParse({ ...result, blocks: many }).success).toBe(false);
  });

  it('refuse an envelope with an unknown kind or a keyId in upper case', () => {
    const envelope = {
      kind: 'capture-permit',
      keyId: 'a'.repeat(32),
      payload: {},
      signature: 'A'.repeat(86),
    };
    expect(envelopeSchema.safeParse(envelope).success).toBe(true);
    expect(envelopeSchema.safeParse({ ...envelope, kind: 'purge-permit' }).success).toBe(false);
    expect(envelopeSchema.safeParse({ ...envelope, keyId: 'A'.repeat(32) }).success).toBe(false);
  });
});

describe('isProtocolError', () => {
  it('recognises protocol errors, optionally by code, and nothing else', () => {
    const err = new ProtocolError('REPLAYED', 'again');
    expect(isProtocolError(err)).toBe(true);
    expect(isProtocolError(err, 'REPLAYED')).toBe(true);
    expect(isProtocolError(err, 'EXPIRED')).toBe(false);
    expect(isProtocolError(new Error('REPLAYED'))).toBe(false);
    expect(err.name).toBe('ProtocolError');
  });
});

describe('decodeBase64url', () => {
  it('decodes the canonical encoding and refuses every other spelling', () => {
    expect(Array.from(decodeBase64url('AAEC'))).toEqual([0, 1, 2]);
    expect(Array.from(decodeBase64url(''))).toEqual([]);
    for (const bad of ['AAEC=', 'AA EC', 'AAF', 'A', 'AB', '+/8', 'AAE\u00e9']) {
      expectCode(() => decodeBase64url(bad), 'MALFORMED_REQUEST');
    }
  });
});
