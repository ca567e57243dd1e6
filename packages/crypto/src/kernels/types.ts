import type { PrimeTables } from '../tables.js';

/**
 * The hot loops of the engine behind one interface, with a pure-JS reference implementation and a
 * WebAssembly SIMD implementation that must agree with it bit for bit. All residues are in [0, p).
 * "Block layout" means the layout of layout.ts over `chunks` chunks; "natural order" means NTT slot c at index c.
 * Arrays passed to the WASM kernels should come from their `allocU32`/`allocF32` (zero copy); others are copied.
 */
export interface Kernels {
  readonly kind: 'js' | 'wasm';
  /** A zeroed array the kernels can use without copying. Views stay valid for the kernels' lifetime. */
  allocU32(length: number): Uint32Array;
  allocF32(length: number): Float32Array;
  /** Forward negacyclic NTT of length t.n, in place (natural order in, bit-reversed out). */
  nttForward(a: Uint32Array, t: PrimeTables): void;
  /** Inverse negacyclic NTT of length t.n, in place, including the 1/n factor. */
  nttInverse(a: Uint32Array, t: PrimeTables): void;
  /** Inverse negacyclic 128-point NTT over ψ^32, in place, including 1/128 (score extraction). */
  intt128(a: Uint32Array, t: PrimeTables): void;
  /** out[c] = (a[c]·b[c] + add[c]) mod p for c < t.n. `out` may alias `add`. */
  mulAdd(out: Uint32Array, a: Uint32Array, b: Uint32Array, add: Uint32Array, t: PrimeTables): void;
  /**
   * Folded c0 scoring: out[g] = Σ_{j<chunks} Σ_{i<32} poly[off(32g+i, j)]·qf[off(32g+i, j)] mod p for
   * g < t.n/32 (block layout inputs). Exact: the sum of chunks·32 products < 2^52 fits in 64 bits.
   */
  foldDot(poly: Uint32Array, qf: Uint32Array, chunks: number, t: PrimeTables, out: Uint32Array): void;
  /**
   * c1 scoring: out[c] = Σ_j poly[off(c, j)]·qm[off(c, j)]·2^-32 mod p, natural order, where qm is the
   * query in Montgomery form (Q·2^32 mod p), so out = Σ_j poly·Q mod p. Requires chunks ≤ 64.
   */
  macMont(poly: Uint32Array, qm: Uint32Array, chunks: number, t: PrimeTables, out: Uint32Array): void;
  /**
   * foldDot of two blocks' regions against one query: outA = foldDot(polyA), outB = foldDot(polyB).
   * Scoring blocks in pairs loads each query word once for both (less memory traffic per product).
   */
  foldDotPair(
    polyA: Uint32Array,
    polyB: Uint32Array,
    qf: Uint32Array,
    chunks: number,
    t: PrimeTables,
    outA: Uint32Array,
    outB: Uint32Array,
  ): void;
  /** macMont of two blocks' regions against one query: outA = macMont(polyA), outB = macMont(polyB). */
  macMontPair(
    polyA: Uint32Array,
    polyB: Uint32Array,
    qm: Uint32Array,
    chunks: number,
    t: PrimeTables,
    outA: Uint32Array,
    outB: Uint32Array,
  ): void;
  /** Encrypted-query cross term: out[c] = Σ_j (a·x + b·y)[off(c, j)]·2^-32 mod p. Requires chunks ≤ 32. */
  macMont2(
    a: Uint32Array,
    x: Uint32Array,
    b: Uint32Array,
    y: Uint32Array,
    chunks: number,
    t: PrimeTables,
    out: Uint32Array,
  ): void;
  /**
   * Vault-side fold: out[a] = (y[a] + Σ_{i<32} w[32a+i]·r[32a+i]) mod p for a < t.n/32, with r and w in
   * natural order. `out` may alias `y`.
   */
  foldAccumulate(y: Uint32Array, r: Uint32Array, w: Uint32Array, t: PrimeTables, out: Uint32Array): void;
  /** Plaintext baseline: out[v] = Σ_d db[v·dim + d]·q[d] in float32 for v < count. */
  dotF32(db: Float32Array, q: Float32Array, dim: number, count: number, out: Float32Array): void;
  /**
   * Block insert/delete: region[off(c, j)] = (region[off(c, j)] + src[j·srcStride + c]·row[c >>> 5]) mod p
   * for c < t.n, j < chunks. `region` is one [prime][poly] region of a block (chunks·t.n words, block
   * layout); chunk j's polynomial is at src[j·srcStride], natural order; `row` holds the t.n/32 group
   * multipliers in [0, p) (NTT(X^(32·slot)), negated for a delete). Public data only.
   */
  blockAccumulate(
    region: Uint32Array,
    src: Uint32Array,
    srcStride: number,
    chunks: number,
    row: Uint32Array,
    t: PrimeTables,
  ): void;
  /**
   * Ternary rejection sampling: for each byte b of `bytes` in order, while i < out.length, a byte
   * b ≠ 255 sets out[i++] = b mod 3 − 1 (255 = 3·85 is rejected). Starts at i = `start` and returns
   * the final i. Branch-free on accepted values; only rejected positions affect control flow.
   */
  ternaryFromBytes(bytes: Uint8Array, out: Int32Array, start: number): number;
  /**
   * Centred binomial CBD(η), 1 ≤ η ≤ 32: out[i] = popcount(a & m) − popcount(b & m) with m = 2^η − 1,
   * where a and b are the little-endian 32-bit words at bytes[8i] and bytes[8i + 4] (any alignment),
   * for i < out.length. Branch-free.
   */
  cbdFromBytes(bytes: Uint8Array, eta: number, out: Int32Array): void;
  /** out[c] = src[c] mod p for c < t.n, for small signed src (|src[c]| < p). Branch-free. */
  smallToResidues(src: Int32Array, t: PrimeTables, out: Uint32Array): void;
}
