import { describe, expect, it } from 'vitest';
import {
  MessageKind,
  assertQueryMatchesTicket,
  assertResultMatches,
  hashBytes,
  hashQuery,
  newNonce,
  signEnvelope,
  verifyEnvelope,
  type SearchResult,
} from '../src/index.js';
import { BLOCKS, NOW, QUERY_BYTES, expectCode, newParty, samplePayloads, viaWire } from './helpers.js';

const { 'search-ticket': ticket, 'search-result': result } = samplePayloads();

describe('assertQueryMatchesTicket', () => {
  it('accepts the exact query bytes the ticket hashed', () => {
    expect(() => {
      assertQueryMatchesTicket(ticket, QUERY_BYTES);
    }).not.toThrow();
  });

  it('refuses any other query with QUERY_MISMATCH', () => {
    const other = Uint8Array.from(QUERY_BYTES);
    other[0]! ^= 1;
    expectCode(() => {
      assertQueryMatchesTicket(ticket, other);
    }, 'QUERY_MISMATCH');
    expectCode(() => {
      assertQueryMatchesTicket(ticket, QUERY_BYTES.subarray(1));
    }, 'QUERY_MISMATCH');
  });

  it('refuses to hash an empty query', () => {
    expectCode(() => hashQuery(new Uint8Array(0)), 'INVALID_ARGUMENT');
  });
});

describe('assertResultMatches', () => {
  it('accepts a result whose blocks, shape and ids match its ticket', () => {
    expect(() => {
      assertResultMatches(result, ticket, BLOCKS);
    }).not.toThrow();
  });

  it('binds a whole recall: the Vault checks the index-signed result against its own ticket', () => {
    const vault = newParty();
    const index = newParty();
    const ticketEnvelope = viaWire(signEnvelope(MessageKind.SEARCH_TICKET, ticket, vault.signer));
    const seenByIndex = verifyEnvelope(MessageKind.SEARCH_TICKET, ticketEnvelope, vault.key, { now: NOW });
    assertQueryMatchesTicket(seenByIndex, QUERY_BYTES);
    const resultEnvelope = viaWire(signEnvelope(MessageKind.SEARCH_RESULT, result, index.signer));
    const t = verifyEnvelope(MessageKind.SEARCH_TICKET, ticketEnvelope, vault.key, { now: NOW + 1_000 });
    const r = verifyEnvelope(MessageKind.SEARCH_RESULT, resultEnvelope, index.key, { now: NOW + 1_000 });
    expect(() => {
      assertResultMatches(r, t, BLOCKS);
    }).not.toThrow();
  });

  it.each<[string, Partial<SearchResult>]>([
    ['another ticket', { ticketId: newNonce() }],
    ['another index', { indexId: 'team-b' }],
    ['another epoch', { epoch: result.epoch + 1 }],
    ['another query', { queryHash: hashQuery(new Uint8Array([42])) }],
  ])('refuses a result bound to %s with RESULT_MISMATCH', (_name, change) => {
    expectCode(() => {
      assertResultMatches({ ...result, ...change }, ticket, BLOCKS);
    }, 'RESULT_MISMATCH');
  });

  it('refuses a block whose bytes do not hash to the signed value with RESULT_MISMATCH', () => {
    for (let i = 0; i < BLOCKS.length; i++) {
      const tampered = BLOCKS.map((b) => Uint8Array.from(b));
      tampered[i]![0]! ^= 0x80;
      expectCode(() => {
        assertResultMatches(result, ticket, tampered);
      }, 'RESULT_MISMATCH');
    }
  });

  it('refuses blocks delivered in another order with RESULT_MISMATCH', () => {
    expectCode(() => {
      assertResultMatches(result, ticket, [...BLOCKS].reverse());
    }, 'RESULT_MISMATCH');
  });

  it('refuses a result with fewer or more blocks than the ticket fixed with RESULT_SHAPE_MISMATCH', () => {
    const fewer = { ...result, blocks: result.blocks.slice(0, -1) };
    expectCode(() => {
      assertResultMatches(fewer, ticket, BLOCKS.slice(0, -1));
    }, 'RESULT_SHAPE_MISMATCH');
    const extra = { blockId: 99, sha256: hashBytes(new Uint8Array([1])) };
    const more = { ...result, blocks: [...result.blocks, extra] };
    expectCode(() => {
      assertResultMatches(more, ticket, [...BLOCKS, new Uint8Array([1])]);
    }, 'RESULT_SHAPE_MISMATCH');
  });

  it('refuses a delivery with a block missing or added with RESULT_SHAPE_MISMATCH', () => {
    expectCode(() => {
      assertResultMatches(result, ticket, BLOCKS.slice(0, -1));
    }, 'RESULT_SHAPE_MISMATCH');
    expectCode(() => {
      assertResultMatches(result, ticket, [...BLOCKS, new Uint8Array(1)]);
    }, 'RESULT_SHAPE_MISMATCH');
  });
});

describe('newNonce', () => {
  it('draws 16 random bytes as 22 base64url characters', () => {
    expect(newNonce()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(newNonce()).not.toBe(newNonce());
    expect(newNonce((n) => new Uint8Array(n))).toBe('AAAAAAAAAAAAAAAAAAAAAA');
  });
});
