import { hkdfSync } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { CryptoError } from '../src/errors.js';
import {
  RECORD_KEY_INFO_PREFIX,
  deriveRecordKey,
  generateRecordNonce,
  generateTeamSecret,
  recordKeyInfo,
} from '../src/sealing/record-keys.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
const seq = (start: number, length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => start + i);

const TEAM_SECRET = seq(0, 32);
const NONCE = seq(32, 32);

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err: unknown) {
    expect(err).toBeInstanceOf(CryptoError);
    expect((err as CryptoError).code).toBe(code);
    return;
  }
  expect.fail(`expected CryptoError ${code}`);
}

describe('deriveRecordKey', () => {
  it('uses an HKDF-SHA256 that reproduces RFC 5869 test case 1', () => {
    const okm = hkdfSync(
      'sha256',
      fromHex('0b'.repeat(22)),
      fromHex('000102030405060708090a0b0c'),
      fromHex('f0f1f2f3f4f5f6f7f8f9'),
      42,
    );
    expect(hex(new Uint8Array(okm))).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  it('equals HKDF-SHA256(ikm = team secret, salt = nonce, info = "rune/record/v1" ‖ UTF-8 record id)', () => {
    const info = Buffer.concat([Buffer.from('rune/record/v1'), Buffer.from('rec-0001', 'utf8')]);
    const expected = new Uint8Array(hkdfSync('sha256', TEAM_SECRET, NONCE, info, 32));
    expect(deriveRecordKey(TEAM_SECRET, NONCE, 'rec-0001')).toEqual(expected);
    expect(recordKeyInfo('rec-0001')).toEqual(new Uint8Array(info));
    expect(RECORD_KEY_INFO_PREFIX).toBe('rune/record/v1');
  });

  it('gives fixed known answers, so a silent change of the info encoding fails', () => {
    // Computed independently with Python's hmac module (RFC 5869 by hand).
    expect(hex(deriveRecordKey(TEAM_SECRET, NONCE, 'rec-0001'))).toBe(
      '9625f8bd8d443e45ab70964d209fb778b2a8dba78db814c6bd668c86586a1903',
    );
    expect(hex(deriveRecordKey(TEAM_SECRET, NONCE, 'mémoire/ü-42'))).toBe(
      'ef38ad8d1215c43e3202c625f92329c3cfea36411d14096a3ca45ddaf23f88a3',
    );
  });

  it('returns a 32-byte key and is deterministic', () => {
    const a = deriveRecordKey(TEAM_SECRET, NONCE, 'r1');
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a.length).toBe(32);
    expect(deriveRecordKey(TEAM_SECRET, NONCE, 'r1')).toEqual(a);
  });

  it('gives different keys for different record ids, nonces and team secrets', () => {
    const keys = [
      deriveRecordKey(TEAM_SECRET, NONCE, 'r1'),
      deriveRecordKey(TEAM_SECRET, NONCE, 'r2'),
      deriveRecordKey(TEAM_SECRET, NONCE, 'r10'),
      deriveRecordKey(TEAM_SECRET, seq(33, 32), 'r1'),
      deriveRecordKey(seq(1, 32), NONCE, 'r1'),
      deriveRecordKey(TEAM_SECRET, generateRecordNonce(), 'r1'),
    ].map(hex);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('refuses a team secret or nonce that is not exactly 32 bytes with MALFORMED_INPUT', () => {
    for (const len of [0, 16, 31, 33, 64]) {
      expectCode(() => deriveRecordKey(new Uint8Array(len), NONCE, 'r1'), 'MALFORMED_INPUT');
      expectCode(() => deriveRecordKey(TEAM_SECRET, new Uint8Array(len), 'r1'), 'MALFORMED_INPUT');
    }
    expectCode(
      () => deriveRecordKey('x'.repeat(32) as unknown as Uint8Array, NONCE, 'r1'),
      'MALFORMED_INPUT',
    );
  });

  it('refuses an empty, over-long or ill-formed record id with MALFORMED_INPUT', () => {
    expectCode(() => deriveRecordKey(TEAM_SECRET, NONCE, ''), 'MALFORMED_INPUT');
    expectCode(() => deriveRecordKey(TEAM_SECRET, NONCE, 'x'.repeat(257)), 'MALFORMED_INPUT');
    // 128 two-byte characters = 256 bytes is fine; 129 is not.
    expect(deriveRecordKey(TEAM_SECRET, NONCE, 'é'.repeat(128)).length).toBe(32);
    expectCode(() => deriveRecordKey(TEAM_SECRET, NONCE, 'é'.repeat(129)), 'MALFORMED_INPUT');
    expectCode(() => deriveRecordKey(TEAM_SECRET, NONCE, 'a\uD800b'), 'MALFORMED_INPUT');
    expectCode(() => deriveRecordKey(TEAM_SECRET, NONCE, 42 as unknown as string), 'MALFORMED_INPUT');
  });
});

describe('generateTeamSecret and generateRecordNonce', () => {
  it('return fresh 32-byte random values', () => {
    const secrets = Array.from({ length: 8 }, () => generateTeamSecret());
    const nonces = Array.from({ length: 8 }, () => generateRecordNonce());
    for (const v of [...secrets, ...nonces]) {
      expect(v).toBeInstanceOf(Uint8Array);
      expect(v.length).toBe(32);
    }
    expect(new Set([...secrets, ...nonces].map(hex)).size).toBe(16);
  });
});
