import type { Kernels } from './kernels/types.js';
import type { RandomSource } from './random.js';

/**
 * Samplers. Secret and error coefficients are produced without data-dependent branches or table
 * lookups; the only branches are rejections of raw random bytes, whose count is independent of the
 * accepted values. Outputs are signed small integers; `toResidues` maps them into [0, p) branchlessly.
 */

const BUFFER_BYTES = 1 << 15;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function swap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/** Buffered reader over a RandomSource, so the CSPRNG is called in large batches. */
export class RandomBytes {
  // Allocated on first use: encryption draws only through bytes/words/fill.
  private buffer = new Uint8Array(0);
  private pos = BUFFER_BYTES;
  private wordBuffer = new Uint32Array(0);
  private byteBatch = new Uint8Array(0);

  constructor(private readonly source: RandomSource) {}

  byte(): number {
    if (this.pos === BUFFER_BYTES) this.refill();
    return this.buffer[this.pos++] ?? 0;
  }

  /** Next 3 bytes as a little-endian 24-bit integer. */
  uint24(): number {
    if (this.pos > BUFFER_BYTES - 3) this.refill();
    const b = this.buffer;
    const p = this.pos;
    this.pos += 3;
    return (b[p] ?? 0) | ((b[p + 1] ?? 0) << 8) | ((b[p + 2] ?? 0) << 16);
  }

  /** Next 4 bytes as a little-endian unsigned 32-bit integer. */
  uint32(): number {
    if (this.pos > BUFFER_BYTES - 4) this.refill();
    const b = this.buffer;
    const p = this.pos;
    this.pos += 4;
    return ((b[p] ?? 0) | ((b[p + 1] ?? 0) << 8) | ((b[p + 2] ?? 0) << 16) | ((b[p + 3] ?? 0) << 24)) >>> 0;
  }

  /** Fills `view` with fresh bytes straight from the source (bypassing the buffer), like `bytes`. */
  fill(view: Uint8Array): void {
    this.source.fill(view);
  }

  /** `count` fresh bytes straight from the source, in a reused array that the next call overwrites. */
  bytes(count: number): Uint8Array {
    if (this.byteBatch.length < count) this.byteBatch = new Uint8Array(count);
    const view = this.byteBatch.subarray(0, count);
    this.source.fill(view);
    return view;
  }

  /**
   * `count` fresh little-endian 32-bit words straight from the source (bypassing the byte buffer),
   * in a reused array that the next call overwrites.
   */
  words(count: number): Uint32Array {
    if (this.wordBuffer.length < count) this.wordBuffer = new Uint32Array(count);
    const view = this.wordBuffer.subarray(0, count);
    this.source.fill(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    if (!LITTLE_ENDIAN) for (let i = 0; i < count; i++) view[i] = swap32(view[i] ?? 0);
    return view;
  }

  private refill(): void {
    if (this.buffer.length === 0) this.buffer = new Uint8Array(BUFFER_BYTES);
    // Unused tail bytes are discarded; every byte is used at most once.
    this.source.fill(this.buffer);
    this.pos = 0;
  }
}

/** Uniform residues in [0, p) by rejection of 26-bit draws (p < 2^26). */
export function sampleUniform(rng: RandomBytes, p: number, out: Uint32Array): void {
  const bits = Math.ceil(Math.log2(p));
  const mask = bits >= 32 ? 0xffffffff : (1 << bits) - 1;
  for (let i = 0; i < out.length;) {
    const v = (rng.uint32() & mask) >>> 0;
    if (v < p) out[i++] = v;
  }
}

/** Uniform ternary coefficients in {-1, 0, 1}: one byte each, bytes ≥ 255 rejected (255 = 3·85). */
export function sampleTernary(rng: RandomBytes, out: Int8Array): void {
  let i = 0;
  while (i < out.length) {
    // Draw a batch a little larger than needed: 1 byte in 256 is rejected.
    const bytes = rng.bytes(out.length - i + 16);
    i = ternaryFromBytes(bytes, out, i);
    bytes.fill(0);
  }
}

/**
 * One ternary batch (the JS reference of `Kernels.ternaryFromBytes`): each byte b ≠ 255 sets
 * out[i++] = b mod 3 − 1 while i < out.length, starting at `start`; returns the final i.
 */
export function ternaryFromBytes(bytes: Uint8Array, out: Int8Array | Int32Array, start: number): number {
  let i = start;
  for (let k = 0; k < bytes.length && i < out.length; k++) {
    const b = bytes[k] ?? 255;
    if (b === 255) continue;
    // floor(b/3) = (b·171) >> 9 for b < 256, avoiding a division instruction.
    const q = (b * 171) >> 9;
    out[i++] = b - 3 * q - 1;
  }
  return i;
}

/**
 * Centred binomial CBD(η): popcount of η bits minus popcount of η bits, η ≤ 32 (21 in our parameters).
 * Each coefficient consumes two fresh 32-bit words, drawn from the source in one batch.
 */
export function sampleCbd(rng: RandomBytes, eta: number, out: Int8Array): void {
  checkEta(eta);
  const words = rng.words(2 * out.length);
  cbdFromWords(words, eta, out);
  words.fill(0);
}

/** CBD(η) from two words per coefficient (words 2i and 2i + 1 for coefficient i). */
export function cbdFromWords(words: Uint32Array, eta: number, out: Int8Array | Int32Array): void {
  checkEta(eta);
  const mask = eta === 32 ? 0xffffffff : (1 << eta) - 1;
  for (let i = 0; i < out.length; i++) {
    out[i] = popcount((words[2 * i] ?? 0) & mask) - popcount((words[2 * i + 1] ?? 0) & mask);
  }
}

/**
 * CBD(η) from 8 bytes per coefficient, read as two little-endian 32-bit words at any alignment (the JS
 * reference of `Kernels.cbdFromBytes`); the same values as cbdFromWords over `RandomBytes.words`.
 */
export function cbdFromBytes(bytes: Uint8Array, eta: number, out: Int8Array | Int32Array): void {
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) {
    cbdFromWords(new Uint32Array(bytes.buffer, bytes.byteOffset, 2 * out.length), eta, out);
    return;
  }
  checkEta(eta);
  const mask = eta === 32 ? 0xffffffff : (1 << eta) - 1;
  const word = (k: number): number =>
    (bytes[k] ?? 0) | ((bytes[k + 1] ?? 0) << 8) | ((bytes[k + 2] ?? 0) << 16) | ((bytes[k + 3] ?? 0) << 24);
  for (let i = 0; i < out.length; i++)
    out[i] = popcount(word(8 * i) & mask) - popcount(word(8 * i + 4) & mask);
}

export function checkEta(eta: number): void {
  if (!Number.isInteger(eta) || eta < 1 || eta > 32) throw new RangeError(`eta must be in 1..32, got ${eta}`);
}

/** Branchless population count of a 32-bit integer. */
export function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  v = (v + (v >>> 4)) & 0x0f0f0f0f;
  return Math.imul(v, 0x01010101) >>> 24;
}

/** Map signed small integers (|x| < p) into residues [0, p), branchlessly. */
export function toResidues(src: Int8Array | Int32Array, p: number, out: Uint32Array): void {
  for (let i = 0; i < src.length; i++) {
    const x = src[i] ?? 0;
    out[i] = x + ((x >> 31) & p);
  }
}

/** An Int32Array view of the same memory (kernel arrays are allocated as Uint32Array). */
export function int32View(a: Uint32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/**
 * The noise of one encryption chunk, sampled by the kernels into kernel memory: ternary u, then CBD e0
 * and e1. The source is consumed exactly as sampleTernary(u), sampleCbd(e0), sampleCbd(e1) would consume
 * it (same bytes, same order, so known answers hold), but usually in one call instead of three: the
 * first ternary batch and both CBD word blocks are always consumed, so they are drawn together up front
 * (each source call costs ~4 µs on top of its bytes). Only a shortfall is drawn later, never more.
 * Secrets stay in kernel memory until `clear()`, which the caller runs once after its last chunk (each
 * sample overwrites the previous one; a per-chunk wipe of shared memory costs ~10 µs).
 */
export class EncryptionNoise {
  readonly u: Int32Array;
  readonly e0: Int32Array;
  readonly e1: Int32Array;
  private readonly buf: Uint8Array;
  /** The same memory as buf, for wiping: fill on shared memory is per element, so wider is faster. */
  private readonly bufWords: Uint32Array;
  /** Next unread byte of buf, bytes of buf drawn for this chunk, and bytes of buf to wipe. */
  private pos = 0;
  private drawn = 0;
  private used = 0;

  constructor(
    private readonly kernels: Kernels,
    private readonly n: number,
  ) {
    this.u = int32View(kernels.allocU32(n));
    this.e0 = int32View(kernels.allocU32(n));
    this.e1 = int32View(kernels.allocU32(n));
    // First ternary batch and the CBD words, plus room for a second batch (needed ~45% of the time).
    this.bufWords = kernels.allocU32(Math.ceil((2 * (n + 16) + 16 * n) / 4));
    this.buf = new Uint8Array(this.bufWords.buffer, this.bufWords.byteOffset, this.bufWords.byteLength);
  }

  sample(rng: RandomBytes, eta: number): void {
    checkEta(eta);
    const n = this.n;
    const wordBytes = 16 * n;
    this.pos = 0;
    this.drawn = 0;
    this.ensure(rng, n + 16 + wordBytes);
    let i = 0;
    while (i < n) {
      // sampleTernary's batch size; the next batch starts where this one ends, used or not.
      const len = n - i + 16;
      this.ensure(rng, len);
      i = this.kernels.ternaryFromBytes(this.buf.subarray(this.pos, this.pos + len), this.u, i);
      this.pos += len;
    }
    this.ensure(rng, wordBytes);
    // The words may start at any byte (batches have odd lengths): the kernels read them unaligned.
    this.kernels.cbdFromBytes(this.buf.subarray(this.pos, this.pos + 8 * n), eta, this.e0);
    this.kernels.cbdFromBytes(this.buf.subarray(this.pos + 8 * n, this.pos + wordBytes), eta, this.e1);
  }

  /** Zeroes the sampled secrets and the random bytes they came from. */
  clear(): void {
    this.bufWords.fill(0, 0, Math.ceil(this.used / 4));
    this.used = 0;
    this.u.fill(0);
    this.e0.fill(0);
    this.e1.fill(0);
  }

  /** Makes `count` unread bytes available, drawing exactly the shortfall from the source. */
  private ensure(rng: RandomBytes, count: number): void {
    if (this.pos + count > this.buf.length) {
      // Only when ternary batches outgrew their room (many rejected bytes): drop the consumed bytes.
      this.buf.copyWithin(0, this.pos, this.drawn);
      this.drawn -= this.pos;
      this.pos = 0;
    }
    const end = this.pos + count;
    if (end > this.drawn) {
      this.used = Math.max(this.used, end);
      rng.fill(this.buf.subarray(this.drawn, end));
      this.drawn = end;
    }
  }
}
