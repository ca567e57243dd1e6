import { describe, expect, it } from 'vitest';
import { BUILT_IN_ROLES, defineRole } from '../src/roles.js';
import { hashSecret, hashesEqual, issueInvitationCode, issueToken } from '../src/tokens.js';
import { caught } from './helpers.js';

const valid = {
  name: 'ci-bot',
  capabilities: ['capture'],
  topKCap: 5,
  rateLimit: { requestsPerMinute: 30, burst: 5 },
};

describe('built-in roles', () => {
  it('match the design: admin all at 50, member capture+recall at 10, reader recall at 10', () => {
    expect(BUILT_IN_ROLES.admin.topKCap).toBe(50);
    expect(BUILT_IN_ROLES.admin.capabilities).toHaveLength(5);
    expect(BUILT_IN_ROLES.member.capabilities).toEqual(['capture', 'recall']);
    expect(BUILT_IN_ROLES.member.topKCap).toBe(10);
    expect(BUILT_IN_ROLES.reader.capabilities).toEqual(['recall']);
    expect(Object.isFrozen(BUILT_IN_ROLES.reader.capabilities)).toBe(true);
  });
});

describe('defineRole', () => {
  it('accepts a valid custom role and freezes it', () => {
    const role = defineRole(valid);
    expect(role).toMatchObject({ name: 'ci-bot', isBuiltIn: false, topKCap: 5 });
    expect(Object.isFrozen(role)).toBe(true);
  });

  it.each([
    ['a bad name', { ...valid, name: 'Bad Name' }],
    ['no capabilities', { ...valid, capabilities: [] }],
    ['an unknown capability', { ...valid, capabilities: ['sudo'] }],
    ['a duplicate capability', { ...valid, capabilities: ['recall', 'recall'] }],
    ['a zero top-k cap', { ...valid, topKCap: 0 }],
    ['a top-k cap above 100', { ...valid, topKCap: 101 }],
    ['a fractional rate', { ...valid, rateLimit: { requestsPerMinute: 1.5, burst: 1 } }],
    ['a missing burst', { ...valid, rateLimit: { requestsPerMinute: 10 } }],
    ['a non-object', 'admin'],
  ])('rejects %s as INVALID_REQUEST', async (_label, input) => {
    expect((await caught(() => defineRole(input))).code).toBe('INVALID_REQUEST');
  });
});

describe('tokens', () => {
  it('are rune_ plus 43 base64url characters, distinct, with a 64-hex hash', () => {
    const a = issueToken();
    const b = issueToken();
    expect(a.secret).toMatch(/^rune_[A-Za-z0-9_-]{43}$/);
    expect(a.secret).not.toBe(b.secret);
    expect(a.hash).toBe(hashSecret(a.secret));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('are built from the injected random source', () => {
    const zero = issueToken((n) => new Uint8Array(n));
    expect(zero.secret).toBe(`rune_${'A'.repeat(43)}`);
    expect(issueInvitationCode((n) => new Uint8Array(n)).secret).toBe(`rune_inv_${'A'.repeat(43)}`);
    expect(() => issueToken(() => new Uint8Array(4))).toThrow(/4 bytes/);
  });

  it('compare hashes equal only when identical, and never match malformed hashes', () => {
    const { hash } = issueToken();
    expect(hashesEqual(hash, hash)).toBe(true);
    expect(hashesEqual(hash, issueToken().hash)).toBe(false);
    expect(hashesEqual(hash, 'abc')).toBe(false);
  });
});
