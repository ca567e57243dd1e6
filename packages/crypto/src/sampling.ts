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
  private readonly buffer = new Uint8Array(BUFFER_BYTES);
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
    for (let k = 0; k < bytes.length && i < out.length; k++) {
      const b = bytes[k] ?? 255;
      if (b === 255) continue;
      // floor(b/3) = (b·171) >> 9 for b < 256, avoiding a division instruction.
      const q = (b * 171) >> 9;
      out[i++] = b - 3 * q - 1;
    }
    bytes.fill(0);
  }
}

/**
 * Centred binomial CBD(η): popcount of η bits minus popcount of η bits, η ≤ 32 (21 in our parameters).
 * Each coefficient consumes two fresh 32-bit words, drawn from the source in one batch.
 */
export function sampleCbd(rng: RandomBytes, eta: number, out: Int8Array): void {
  if (!Number.isInteger(eta) || eta < 1 || eta > 32) throw new RangeError(`eta must be in 1..32, got ${eta}`);
  const mask = eta === 32 ? 0xffffffff : (1 << eta) - 1;
  const words = rng.words(2 * out.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = popcount((words[2 * i] ?? 0) & mask) - popcount((words[2 * i + 1] ?? 0) & mask);
  }
  words.fill(0);
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
