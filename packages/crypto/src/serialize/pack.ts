import { CryptoError } from '../errors.js';

/**
 * Residue encodings of the wire formats: bit-packed little-endian streams and plain u32 little-endian
 * words, plus the check that every decoded residue is below its prime. A residue ≥ p would not fail
 * later: it would silently give a wrong score, so decoding rejects it here.
 */

const IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Where each word's prime comes from: the data is `repeats` copies of [prime 0..P-1][runWords words].
 * Every engine array has this shape (see shape.ts for the values per kind).
 */
export interface PrimeRuns {
  readonly repeats: number;
  readonly runWords: number;
}

/** Bytes of `count` values bit-packed at `bits` bits (the last byte zero-padded). */
export function packedBytes(count: number, bits: number): number {
  return Math.ceil((count * bits) / 8);
}

function assertBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 32) {
    throw new CryptoError('MALFORMED_INPUT', `bit width ${bits} outside 1..32`);
  }
}

/**
 * Bit-packs `values` at `bits` bits each into `out` from `offset`: value i occupies stream bits
 * [i·bits, (i+1)·bits), stream bit k being bit k mod 8 of byte k/8. A value ≥ 2^bits is a RangeError
 * (never truncated). Returns the offset after the last byte written.
 */
export function packResiduesInto(values: Uint32Array, bits: number, out: Uint8Array, offset: number): number {
  assertBits(bits);
  const end = offset + packedBytes(values.length, bits);
  if (offset < 0 || end > out.length) {
    throw new RangeError('packing target too small');
  }
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const max = bits === 32 ? 0xffffffff : 2 ** bits - 1;
  let acc = 0;
  let nb = 0; // pending bits in acc, always < 32 between values
  let o = offset;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? 0;
    if (v > max) {
      throw new RangeError(`value ${v} at ${i} does not fit in ${bits} bits`);
    }
    acc = (acc | (v << nb)) >>> 0;
    nb += bits;
    if (nb >= 32) {
      // Whole words keep the loop at ~5 ns per value; the bits of v that did not fit stay pending.
      view.setUint32(o, acc, true);
      o += 4;
      nb -= 32;
      acc = nb === 0 ? 0 : v >>> (bits - nb);
    }
  }
  while (nb > 0) {
    out[o++] = acc & 255;
    acc >>>= 8;
    nb -= 8;
  }
  return o;
}

/** Bit-packs `values` at `bits` bits each into a new array (see packResiduesInto). */
export function packResidues(values: Uint32Array, bits: number): Uint8Array {
  const out = new Uint8Array(packedBytes(values.length, bits));
  packResiduesInto(values, bits, out, 0);
  return out;
}

/**
 * Reads `count` values of `bits` bits from `bytes` at `offset`. The byte range must be exactly
 * packedBytes(count, bits) long within `bytes`; padding bits of the last byte must be zero so that every
 * value has one encoding. Throws MALFORMED_INPUT otherwise.
 */
export function unpackResidues(bytes: Uint8Array, count: number, bits: number, offset = 0): Uint32Array {
  assertBits(bits);
  const byteCount = packedBytes(count, bits);
  if (!Number.isInteger(count) || count < 0 || offset < 0 || offset + byteCount > bytes.length) {
    throw new CryptoError('MALFORMED_INPUT', `packed residues truncated: need ${byteCount} bytes`);
  }
  const out = new Uint32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const mask = bits === 32 ? 0xffffffff : 2 ** bits - 1;
  const lastWordAt = bytes.length - 4;
  let acc = 0;
  let nb = 0; // pending bits in acc
  let k = offset;
  for (let i = 0; i < count; i++) {
    if (nb >= bits) {
      out[i] = acc & mask;
      acc = bits === 32 ? 0 : acc >>> bits;
      nb -= bits;
    } else {
      // A word may reach past the range; those bits are never used (padding is checked below).
      const w = k <= lastWordAt ? view.getUint32(k, true) : readTailWord(bytes, k);
      k += 4;
      out[i] = (acc | (w << nb)) & mask;
      const used = bits - nb;
      acc = used === 32 ? 0 : w >>> used;
      nb = 32 - used;
    }
  }
  const padBits = byteCount * 8 - count * bits;
  if (padBits > 0) {
    const last = bytes[offset + byteCount - 1] ?? 0;
    if (last >>> (8 - padBits) !== 0) {
      throw new CryptoError('MALFORMED_INPUT', 'nonzero padding bits after packed residues');
    }
  }
  return out;
}

function readTailWord(bytes: Uint8Array, k: number): number {
  let w = 0;
  for (let j = 0; j < 4; j++) {
    w |= (bytes[k + j] ?? 0) << (8 * j);
  }
  return w >>> 0;
}

/** Writes `values` as u32 little-endian words into `out` at `offset`; returns the offset after them. */
export function writeU32Words(values: Uint32Array, out: Uint8Array, offset: number): number {
  const end = offset + values.length * 4;
  if (offset < 0 || end > out.length) {
    throw new RangeError('word target too small');
  }
  if (IS_LITTLE_ENDIAN) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
  } else {
    writeU32WordsPortably(values, out, offset);
  }
  return end;
}

/** The word-by-word path of writeU32Words that big-endian hosts take (exported for its tests). */
export function writeU32WordsPortably(values: Uint32Array, out: Uint8Array, offset: number): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < values.length; i++) {
    view.setUint32(offset + i * 4, values[i] ?? 0, true);
  }
}

/**
 * A copy of `length` bytes at `offset` in a fresh buffer. (Buffer#slice returns a view, so parsed objects
 * never use slice on caller input.)
 */
export function copyBytes(bytes: Uint8Array, offset: number, length: number): Uint8Array {
  if (offset < 0 || length < 0 || offset + length > bytes.length) {
    throw new CryptoError('MALFORMED_INPUT', `truncated: need ${length} bytes at ${offset}`);
  }
  const copy = new Uint8Array(length);
  copy.set(bytes.subarray(offset, offset + length));
  return copy;
}

/** Reads `count` u32 little-endian words at `offset` into a new array (never a view of `bytes`). */
export function readU32Words(bytes: Uint8Array, count: number, offset = 0): Uint32Array {
  const byteCount = count * 4;
  if (!Number.isInteger(count) || count < 0 || offset < 0 || offset + byteCount > bytes.length) {
    throw new CryptoError('MALFORMED_INPUT', `residue words truncated: need ${byteCount} bytes`);
  }
  return IS_LITTLE_ENDIAN
    ? new Uint32Array(copyBytes(bytes, offset, byteCount).buffer)
    : readU32WordsPortably(bytes, count, offset);
}

/** The word-by-word path of readU32Words that big-endian hosts take (exported for its tests). */
export function readU32WordsPortably(bytes: Uint8Array, count: number, offset: number): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = view.getUint32(offset + i * 4, true);
  }
  return out;
}

/** Smallest bit width holding every residue of these primes: ceil(log2 p) for the largest p. */
export function residueBitsFor(primes: readonly number[]): number {
  let bits = 1;
  for (const p of primes) {
    bits = Math.max(bits, 32 - Math.clz32(p - 1));
  }
  return bits;
}

/**
 * Throws MALFORMED_INPUT unless `data` has exactly the shape `runs` × primes and every word is below the
 * prime of its run.
 */
export function assertResiduesBelowPrimes(
  data: Uint32Array,
  primes: readonly number[],
  runs: PrimeRuns,
): void {
  const expected = runs.repeats * primes.length * runs.runWords;
  if (data.length !== expected) {
    throw new CryptoError('MALFORMED_INPUT', `expected ${expected} residue words, got ${data.length}`);
  }
  let i = 0;
  for (let r = 0; r < runs.repeats; r++) {
    for (const p of primes) {
      const end = i + runs.runWords;
      for (; i < end; i++) {
        if ((data[i] ?? 0) >= p) {
          throw new CryptoError('MALFORMED_INPUT', `residue at word ${i} is not below its prime ${p}`);
        }
      }
    }
  }
}
