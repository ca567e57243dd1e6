import { describe, expect, it } from 'vitest';

import { CryptoError } from '../src/errors.js';
import {
  MAX_PASSPHRASE_CHARS,
  MIN_PASSPHRASE_BITS,
  assertStrongPassphrase,
  estimatePassphraseBits,
} from '../src/sealing/passphrase-policy.js';

function refusal(passphrase: unknown): CryptoError | undefined {
  try {
    assertStrongPassphrase(passphrase);
  } catch (err: unknown) {
    if (err instanceof CryptoError) return err;
    throw err;
  }
  return undefined;
}

describe('assertStrongPassphrase', () => {
  it('accepts random-word passphrases and long mixed-class passwords', () => {
    for (const ok of [
      'velvet ocean quarry ribbon',
      'tulip-rocket-92-lantern',
      'kx7#Lm2$pQ9z',
      'qmzhtrkvbnwe',
      '8392017465830174',
      'ünïcödé çhärs!',
    ]) {
      expect(refusal(ok)).toBeUndefined();
    }
  });

  it('refuses passphrases shorter than 12 characters, saying how many are needed', () => {
    for (const short of ['', 'a', 'Tr0ub4dor&3', 'kx7#Lm2$pQ9']) {
      const err = refusal(short);
      expect(err?.code).toBe('WEAK_PASSPHRASE');
      expect(err?.message).toMatch(/at least 12/);
    }
  });

  it('counts characters as code points, so 11 emoji are still too short', () => {
    expect(refusal('🔑'.repeat(5) + '🗝️🔒🔓🛡️')?.code).toBe('WEAK_PASSPHRASE');
  });

  it('refuses common passwords even with case changes, substitutions, separators or tacked-on digits', () => {
    for (const common of [
      'password12345678',
      'Password123456',
      'P@ssw0rd2024!',
      'qwertyuiop123',
      'correct horse battery staple',
      'Correct-Horse-Battery-Staple1',
      '!!Letmein!!2024',
      'Summer2024!!',
    ]) {
      const err = refusal(common);
      expect(err?.code, common).toBe('WEAK_PASSPHRASE');
      expect(err?.message).toMatch(/commonly used password/);
    }
  });

  it('refuses a repeated pattern', () => {
    for (const repeated of [
      'aaaaaaaaaaaaaaaa',
      'abcabcabcabc',
      'hunter2hunter2',
      'Xk9#mQ2!Xk9#mQ2!',
      'ZZZZZZZZZZZZZ',
    ]) {
      const err = refusal(repeated);
      expect(err?.code, repeated).toBe('WEAK_PASSPHRASE');
      expect(err?.message).toMatch(/repeats the same/);
    }
  });

  it('refuses sequences and low-entropy strings, explaining the estimate and the fix', () => {
    for (const weak of [
      'abcdefghijklmnop',
      '123456789012',
      'zyxwvutsrqponm',
      '839201746583',
      'sunshine sunset',
    ]) {
      const err = refusal(weak);
      expect(err?.code, weak).toBe('WEAK_PASSPHRASE');
      expect(err?.message).toMatch(/too predictable .* at least 50 required/);
      expect(err?.message).toMatch(/make it longer/);
    }
  });

  it('never echoes the passphrase in the message', () => {
    for (const weak of ['abcdefghijklmnop', 'P@ssw0rd2024!', 'short', 'abcabcabcabc']) {
      expect(refusal(weak)?.message).not.toContain(weak);
    }
  });

  it('refuses a non-string with WEAK_PASSPHRASE and an over-long string with MALFORMED_INPUT', () => {
    expect(refusal(undefined)?.code).toBe('WEAK_PASSPHRASE');
    expect(refusal(123456789012345)?.code).toBe('WEAK_PASSPHRASE');
    const long = Array.from(
      { length: MAX_PASSPHRASE_CHARS + 1 },
      (_, i) => 'abcdefghjkmnpqrstuvwxyz'[(i * 7) % 23],
    ).join('');
    expect(refusal(long)?.code).toBe('MALFORMED_INPUT');
  });
});

describe('estimatePassphraseBits', () => {
  it('multiplies the effective length by log2 of the character-class pool', () => {
    expect(estimatePassphraseBits('qmzhtrkvbnwe')).toBeCloseTo(12 * Math.log2(26), 6);
    expect(estimatePassphraseBits('kx7#Lm2$pQ9z')).toBeCloseTo(12 * Math.log2(95), 6);
    expect(estimatePassphraseBits('')).toBe(0);
  });

  it('counts a run of repeated or consecutive characters as two characters', () => {
    expect(estimatePassphraseBits('abcdefghijklmnop')).toBeCloseTo(2 * Math.log2(26), 6);
    expect(estimatePassphraseBits('9876543210')).toBeCloseTo(2 * Math.log2(10), 6);
    expect(estimatePassphraseBits('xaaaay')).toBeCloseTo(4 * Math.log2(26), 6);
  });

  it('counts a listed common word as one character', () => {
    expect(estimatePassphraseBits('xpasswordy')).toBeCloseTo(3 * Math.log2(26), 6);
  });

  it('places the threshold at 50 bits', () => {
    expect(MIN_PASSPHRASE_BITS).toBe(50);
  });
});
