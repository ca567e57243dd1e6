import { createDecipheriv } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { CryptoError } from '../src/errors.js';
import { generateRecordNonce, generateTeamSecret, deriveRecordKey } from '../src/sealing/record-keys.js';
import {
  MAX_RECORD_PLAINTEXT_BYTES,
  MAX_SEALED_RECORD_BYTES,
  RECORD_SEAL_OVERHEAD,
  openRecord,
  recordSealAad,
  sealRecord,
} from '../src/sealing/record-seal.js';

const KEY = deriveRecordKey(generateTeamSecret(), generateRecordNonce(), 'rec-1');
const BASE = { key: KEY, indexId: 'idx-main', recordId: 'rec-1', keyVersion: 1 } as const;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof CryptoError) return err.code;
    throw err;
  }
  return 'NO_ERROR';
}

describe('sealRecord / openRecord', () => {
  it('round-trips empty, small and maximum-size plaintexts', () => {
    for (const plaintext of [
      new Uint8Array(0),
      text('{"title":"use pnpm","insight":"…"}'),
      new Uint8Array(MAX_RECORD_PLAINTEXT_BYTES).fill(7),
    ]) {
      const sealed = sealRecord({ ...BASE, plaintext });
      expect(sealed.length).toBe(plaintext.length + RECORD_SEAL_OVERHEAD);
      // Buffer.equals: vitest's deep equality is slow on a 1 MiB array.
      expect(Buffer.from(openRecord({ ...BASE, sealed })).equals(plaintext)).toBe(true);
    }
  });

  it('writes [version 1][12-byte nonce][ciphertext][16-byte tag] with the documented AAD', () => {
    const plaintext = text('hello record');
    const sealed = sealRecord({ ...BASE, plaintext });
    expect(sealed[0]).toBe(1);
    // Decrypt with node:crypto directly, following the documented layout and AAD encoding.
    const aad = Buffer.concat([
      Buffer.from([1]),
      Buffer.from([0, 0, 0, 16]),
      Buffer.from('rune/record-seal'),
      Buffer.from([0, 0, 0, 8]),
      Buffer.from('idx-main'),
      Buffer.from([0, 0, 0, 5]),
      Buffer.from('rec-1'),
      Buffer.from([0, 0, 0, 1]),
    ]);
    expect(recordSealAad(1, 'idx-main', 'rec-1', 1)).toEqual(new Uint8Array(aad));
    const d = createDecipheriv('aes-256-gcm', KEY, sealed.subarray(1, 13));
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    const out = Buffer.concat([d.update(sealed.subarray(13, sealed.length - 16)), d.final()]);
    expect(new Uint8Array(out)).toEqual(plaintext);
  });

  it('uses a fresh nonce for every seal', () => {
    const plaintext = text('same');
    const nonces = new Set(
      Array.from({ length: 16 }, () =>
        Buffer.from(sealRecord({ ...BASE, plaintext }).subarray(1, 13)).toString('hex'),
      ),
    );
    expect(nonces.size).toBe(16);
  });

  it('fails closed when any single bit of a sealed record is flipped', () => {
    const sealed = sealRecord({ ...BASE, plaintext: text('sixteen byte msg') });
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const tampered = sealed.slice();
      tampered[bit >> 3] = (tampered[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      // A flipped version byte is an unknown version; any other flip fails authentication.
      expect(codeOf(() => openRecord({ ...BASE, sealed: tampered }))).toBe(
        bit < 8 ? 'MALFORMED_INPUT' : 'DECRYPTION_FAILED',
      );
    }
  });

  it('refuses the wrong key with DECRYPTION_FAILED', () => {
    const sealed = sealRecord({ ...BASE, plaintext: text('secret') });
    const otherKey = deriveRecordKey(generateTeamSecret(), generateRecordNonce(), 'rec-1');
    expect(codeOf(() => openRecord({ ...BASE, key: otherKey, sealed }))).toBe('DECRYPTION_FAILED');
    const flippedKey = KEY.slice();
    flippedKey[31] = (flippedKey[31] ?? 0) ^ 1;
    expect(codeOf(() => openRecord({ ...BASE, key: flippedKey, sealed }))).toBe('DECRYPTION_FAILED');
  });

  it('refuses a wrong index id, record id or key version with DECRYPTION_FAILED', () => {
    const sealed = sealRecord({ ...BASE, plaintext: text('bound to its place') });
    for (const wrong of [
      { indexId: 'idx-other' },
      { indexId: 'idx-mai' },
      { recordId: 'rec-2' },
      { recordId: 'rec-10' },
      { keyVersion: 2 },
      { keyVersion: 0 },
    ]) {
      expect(codeOf(() => openRecord({ ...BASE, ...wrong, sealed }))).toBe('DECRYPTION_FAILED');
    }
  });

  it('keeps the AAD unambiguous when bytes move between index id and record id', () => {
    const a = recordSealAad(1, 'ab', 'c', 1);
    const b = recordSealAad(1, 'a', 'bc', 1);
    expect(a).not.toEqual(b);
    const sealed = sealRecord({ ...BASE, indexId: 'ab', recordId: 'c', plaintext: text('x') });
    expect(codeOf(() => openRecord({ ...BASE, indexId: 'a', recordId: 'bc', sealed }))).toBe(
      'DECRYPTION_FAILED',
    );
  });

  it('refuses every truncation: MALFORMED_INPUT below the minimum size, DECRYPTION_FAILED above it', () => {
    const sealed = sealRecord({ ...BASE, plaintext: text('truncate me, please') });
    for (let len = 0; len < sealed.length; len++) {
      expect(codeOf(() => openRecord({ ...BASE, sealed: sealed.subarray(0, len) }))).toBe(
        len < RECORD_SEAL_OVERHEAD ? 'MALFORMED_INPUT' : 'DECRYPTION_FAILED',
      );
    }
  });

  it('refuses appended bytes with DECRYPTION_FAILED', () => {
    const sealed = sealRecord({ ...BASE, plaintext: text('no trailers') });
    for (const extra of [[0], [0, 0, 0, 0], Array.from({ length: 16 }, (_, i) => i)]) {
      const longer = new Uint8Array([...sealed, ...extra]);
      expect(codeOf(() => openRecord({ ...BASE, sealed: longer }))).toBe('DECRYPTION_FAILED');
    }
  });

  it('refuses unknown format versions and oversized input with MALFORMED_INPUT', () => {
    const sealed = sealRecord({ ...BASE, plaintext: text('v1') });
    for (const v of [0, 2, 255]) {
      const other = sealed.slice();
      other[0] = v;
      expect(codeOf(() => openRecord({ ...BASE, sealed: other }))).toBe('MALFORMED_INPUT');
    }
    const huge = new Uint8Array(MAX_SEALED_RECORD_BYTES + 1);
    huge[0] = 1;
    expect(codeOf(() => openRecord({ ...BASE, sealed: huge }))).toBe('MALFORMED_INPUT');
  });

  it('refuses to seal a plaintext over the 1 MiB limit with MALFORMED_INPUT', () => {
    const plaintext = new Uint8Array(MAX_RECORD_PLAINTEXT_BYTES + 1);
    expect(codeOf(() => sealRecord({ ...BASE, plaintext }))).toBe('MALFORMED_INPUT');
  });

  it('refuses keys that are not exactly 32 bytes with MALFORMED_INPUT, on seal and on open', () => {
    const sealed = sealRecord({ ...BASE, plaintext: text('k') });
    for (const len of [0, 16, 24, 31, 33]) {
      const key = new Uint8Array(len);
      expect(codeOf(() => sealRecord({ ...BASE, key, plaintext: text('k') }))).toBe('MALFORMED_INPUT');
      expect(codeOf(() => openRecord({ ...BASE, key, sealed }))).toBe('MALFORMED_INPUT');
    }
  });

  it('refuses bad ids and key versions with MALFORMED_INPUT', () => {
    const plaintext = text('p');
    for (const bad of [
      { indexId: '' },
      { recordId: '' },
      { recordId: 'x'.repeat(257) },
      { indexId: '\uDC00' },
      { keyVersion: -1 },
      { keyVersion: 1.5 },
      { keyVersion: 2 ** 32 },
      { keyVersion: Number.NaN },
    ]) {
      expect(codeOf(() => sealRecord({ ...BASE, ...bad, plaintext }))).toBe('MALFORMED_INPUT');
    }
    expect(codeOf(() => sealRecord({ ...BASE, keyVersion: 2 ** 32 - 1, plaintext }))).toBe('NO_ERROR');
  });

  it('opens a record sealed into a Buffer slice of a larger allocation', () => {
    const sealed = sealRecord({ ...BASE, plaintext: text('offset view') });
    const backing = Buffer.alloc(sealed.length + 10);
    backing.set(sealed, 5);
    expect(openRecord({ ...BASE, sealed: backing.subarray(5, 5 + sealed.length) })).toEqual(
      text('offset view'),
    );
  });
});
