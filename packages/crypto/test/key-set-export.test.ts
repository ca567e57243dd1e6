import { createCipheriv, randomBytes, scryptSync } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { CryptoError } from '../src/errors.js';
import {
  DEFAULT_SCRYPT_PARAMS,
  MAX_KEY_SET_ENTRIES,
  MAX_KEY_SET_ENTRY_BYTES,
  MIN_SCRYPT_PARAMS,
  exportKeySet,
  importKeySet,
} from '../src/sealing/key-set-export.js';

const PASS = 'velvet ocean quarry ribbon';
/** Lowest allowed cost keeps the suite fast; the floor is what tests use. */
const FAST = { scrypt: MIN_SCRYPT_PARAMS };
const HEADER = 41;
const ENTRIES = new Map<string, Uint8Array>([
  ['secret-key', Uint8Array.from({ length: 4096 }, (_, i) => (i * 31) & 0xff)],
  ['team-metadata-secret', randomBytes(32)],
  ['empty', new Uint8Array(0)],
  ['v1.public_key', randomBytes(100)],
]);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err: unknown) {
    if (err instanceof CryptoError) return err.code;
    throw err;
  }
  return 'NO_ERROR';
}

function flip(blob: Uint8Array, byte: number, bit = 0): Uint8Array {
  const out = blob.slice();
  out[byte] = (out[byte] ?? 0) ^ (1 << bit);
  return out;
}

function expectSameEntries(actual: Map<string, Uint8Array>, expected: ReadonlyMap<string, Uint8Array>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [name, value] of expected) {
    expect(Buffer.from(actual.get(name) ?? []).equals(value), name).toBe(true);
  }
}

describe('exportKeySet / importKeySet', () => {
  it('round-trips a Map of opaque entries', async () => {
    const blob = await exportKeySet(ENTRIES, PASS, FAST);
    const back = await importKeySet(blob, PASS);
    expect(back).toBeInstanceOf(Map);
    expectSameEntries(back, ENTRIES);
  });

  it('round-trips a plain record of entries', async () => {
    const record = { 'a.b_c-1': new Uint8Array([1, 2, 3]), z: new Uint8Array([9]) };
    const back = await importKeySet(await exportKeySet(record, PASS, FAST), PASS);
    expectSameEntries(back, new Map(Object.entries(record)));
  });

  it('writes the documented header: magic, version, KDF id, scrypt parameters, salt and nonce', async () => {
    const blob = await exportKeySet(ENTRIES, PASS, { scrypt: { log2N: 15 } });
    expect(Buffer.from(blob.subarray(0, 8)).toString('latin1')).toBe('RUNEKEYS');
    expect([...blob.subarray(8, 13)]).toEqual([1, 1, 15, 8, 1]);
    const again = await exportKeySet(ENTRIES, PASS, FAST);
    // Fresh salt and nonce every time.
    expect(Buffer.from(again.subarray(13, 41)).equals(blob.subarray(13, 41))).toBe(false);
  });

  it('follows the documented format, checked by an independent encoder (and import skips the policy)', async () => {
    // Built by hand from the format comment, with a passphrase the export policy would refuse.
    const weak = 'hunter2';
    const salt = randomBytes(16);
    const nonce = randomBytes(12);
    const header = Buffer.concat([Buffer.from('RUNEKEYS'), Buffer.from([1, 1, 14, 8, 1]), salt, nonce]);
    const payload = Buffer.concat([
      Buffer.from([0, 2]),
      Buffer.from([1]),
      Buffer.from('a'),
      Buffer.from([0, 0, 0, 2, 0xaa, 0xbb]),
      Buffer.from([3]),
      Buffer.from('bcd'),
      Buffer.from([0, 0, 0, 0]),
    ]);
    const key = scryptSync(weak, salt, 32, { N: 2 ** 14, r: 8, p: 1 });
    const c = createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(header);
    const blob = Buffer.concat([header, c.update(payload), c.final(), c.getAuthTag()]);
    const back = await importKeySet(blob, weak);
    expectSameEntries(
      back,
      new Map([
        ['a', new Uint8Array([0xaa, 0xbb])],
        ['bcd', new Uint8Array(0)],
      ]),
    );
  });

  it('uses strong defaults: scrypt N = 2^17, r = 8, p = 1', async () => {
    expect(DEFAULT_SCRYPT_PARAMS).toEqual({ log2N: 17, r: 8, p: 1 });
    const blob = await exportKeySet(new Map([['k', new Uint8Array([1])]]), PASS);
    expect([...blob.subarray(10, 13)]).toEqual([17, 8, 1]);
  });

  it('derives the same key from NFC and NFD spellings of a passphrase', async () => {
    const nfc = 'café crème brûlée 42'.normalize('NFC');
    const blob = await exportKeySet(ENTRIES, nfc, FAST);
    expectSameEntries(await importKeySet(blob, nfc.normalize('NFD')), ENTRIES);
  });

  it('refuses a wrong passphrase with DECRYPTION_FAILED', async () => {
    const blob = await exportKeySet(ENTRIES, PASS, FAST);
    const codes = await Promise.all(
      ['velvet ocean quarry ribbon ', 'Velvet ocean quarry ribbon', 'x'].map((p) =>
        codeOf(importKeySet(blob, p)),
      ),
    );
    expect(codes).toEqual(['DECRYPTION_FAILED', 'DECRYPTION_FAILED', 'DECRYPTION_FAILED']);
  });

  it('refuses a header whose KDF cost was lowered: within bounds by authentication, below the floor before the KDF', async () => {
    const blob = await exportKeySet(ENTRIES, PASS, { scrypt: { log2N: 15 } });
    const lowered = blob.slice();
    lowered[10] = 14;
    expect(await codeOf(importKeySet(lowered, PASS))).toBe('DECRYPTION_FAILED');
    for (const [offset, value] of [
      [10, 10],
      [10, 1],
      [11, 1],
      [11, 4],
      [12, 0],
    ] as const) {
      const weak = blob.slice();
      weak[offset] = value;
      expect(await codeOf(importKeySet(weak, PASS)), `byte ${offset} = ${value}`).toBe('MALFORMED_INPUT');
    }
  });

  it('refuses absurdly costly KDF parameters with MALFORMED_INPUT without running the KDF', async () => {
    const blob = await exportKeySet(ENTRIES, PASS, FAST);
    for (const [log2N, r, p] of [
      [30, 8, 1],
      [21, 8, 1],
      [19, 8, 1], // 512 MiB: over the memory ceiling
      [14, 255, 1],
      [14, 8, 255],
      [17, 8, 16], // work N·r·p = 2^24
    ] as const) {
      const costly = blob.slice();
      costly.set([log2N, r, p], 10);
      const start = performance.now();
      expect(await codeOf(importKeySet(costly, PASS)), `${log2N}/${r}/${p}`).toBe('MALFORMED_INPUT');
      expect(performance.now() - start).toBeLessThan(1000);
    }
  });

  it('fails closed on a flipped bit in any header byte and in sampled body and tag positions', async () => {
    const blob = await exportKeySet(new Map([['k', randomBytes(48)]]), PASS, FAST);
    const positions = [...Array.from({ length: HEADER }, (_, i) => i), HEADER, HEADER + 7, blob.length - 17];
    for (let i = 0; i < 16; i++) positions.push(blob.length - 16 + i);
    const codes = await Promise.all(
      positions.map((pos) => codeOf(importKeySet(flip(blob, pos, pos % 8), PASS))),
    );
    positions.forEach((pos, i) => {
      const code = codes[i];
      expect(code, `byte ${pos}`).not.toBe('NO_ERROR');
      // Magic, version, KDF id: structurally rejected. Everything else must fail authentication,
      // unless the flip moved a KDF parameter out of bounds.
      if (pos < 10) expect(code, `byte ${pos}`).toBe('MALFORMED_INPUT');
      else if (pos >= 13) expect(code, `byte ${pos}`).toBe('DECRYPTION_FAILED');
      else expect(['MALFORMED_INPUT', 'DECRYPTION_FAILED']).toContain(code);
    });
  });

  it('refuses truncation: MALFORMED_INPUT below the minimum size, DECRYPTION_FAILED above it', async () => {
    const blob = await exportKeySet(new Map([['k', randomBytes(8)]]), PASS, FAST);
    const min = HEADER + 2 + 16;
    for (let len = 0; len < min; len++) {
      expect(await codeOf(importKeySet(blob.subarray(0, len), PASS)), `length ${len}`).toBe(
        'MALFORMED_INPUT',
      );
    }
    const lengths = Array.from({ length: blob.length - min }, (_, i) => min + i);
    const codes = await Promise.all(lengths.map((len) => codeOf(importKeySet(blob.subarray(0, len), PASS))));
    expect(codes).toEqual(lengths.map(() => 'DECRYPTION_FAILED'));
  });

  it('refuses appended bytes with DECRYPTION_FAILED', async () => {
    const blob = await exportKeySet(new Map([['k', randomBytes(8)]]), PASS, FAST);
    expect(await codeOf(importKeySet(new Uint8Array([...blob, 0]), PASS))).toBe('DECRYPTION_FAILED');
  });

  it('refuses wrong magic, unknown version and unknown KDF with MALFORMED_INPUT', async () => {
    const blob = await exportKeySet(new Map([['k', randomBytes(8)]]), PASS, FAST);
    for (const [offset, value] of [
      [0, 0x58],
      [8, 2],
      [8, 0],
      [9, 2],
      [9, 0],
    ] as const) {
      const other = blob.slice();
      other[offset] = value;
      expect(await codeOf(importKeySet(other, PASS))).toBe('MALFORMED_INPUT');
    }
    expect(await codeOf(importKeySet('RUNEKEYS' as unknown as Uint8Array, PASS))).toBe('MALFORMED_INPUT');
  });

  it('refuses weak passphrases on export with WEAK_PASSPHRASE', async () => {
    for (const weak of ['short', 'password1234', 'aaaaaaaaaaaaaaaa', '123456789012']) {
      expect(await codeOf(exportKeySet(ENTRIES, weak, FAST)), weak).toBe('WEAK_PASSPHRASE');
    }
  });

  it('refuses KDF options below the floor or above the ceilings with MALFORMED_INPUT', async () => {
    for (const scrypt of [
      { log2N: 13 },
      { log2N: 10 },
      { r: 4 },
      { p: 0 },
      { log2N: 14.5 },
      { log2N: 19 },
      { p: 17 },
    ]) {
      expect(await codeOf(exportKeySet(ENTRIES, PASS, { scrypt })), JSON.stringify(scrypt)).toBe(
        'MALFORMED_INPUT',
      );
    }
  });

  it('refuses bad entry names, counts, values and sizes with MALFORMED_INPUT', async () => {
    const one = new Uint8Array([1]);
    const bad: (ReadonlyMap<string, Uint8Array> | Record<string, Uint8Array>)[] = [
      new Map(),
      {},
      { Secret: one },
      { 'has space': one },
      { 'a/b': one },
      { '': one },
      { ['x'.repeat(65)]: one },
      { k: 'not bytes' as unknown as Uint8Array },
      { k: new Uint8Array(MAX_KEY_SET_ENTRY_BYTES + 1) },
      new Map(Array.from({ length: MAX_KEY_SET_ENTRIES + 1 }, (_, i) => [`k${i}`, one] as const)),
    ];
    for (const entries of bad) {
      expect(await codeOf(exportKeySet(entries, PASS, FAST))).toBe('MALFORMED_INPUT');
    }
    expect(await codeOf(exportKeySet({ ['x'.repeat(64)]: one }, PASS, FAST))).toBe('NO_ERROR');
  });
});
