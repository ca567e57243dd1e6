import { layoutOffset } from '../layout.js';
import { invMod, mulModCt } from '../modarith.js';
import { cbdFromBytes, ternaryFromBytes } from '../sampling.js';
import type { PrimeTables } from '../tables.js';
import type { Kernels } from './types.js';

/**
 * Pure-JS reference kernels: the ground truth the WASM kernels are checked against bit for bit, and the
 * fallback where WebAssembly SIMD is unavailable. Every residue product is < 2^52, exact in a float64.
 * Kernels that touch secret-derived data (NTTs, mulAdd, foldAccumulate, the samplers of sampling.ts)
 * use branchless, fmod-free arithmetic; the server-side scoring kernels work on public data only and
 * use plain `%`.
 * Montgomery outputs are computed as (Σ mod p)·(2^32)^-1 mod p, the same residue WASM produces.
 */
export function createJsKernels(): Kernels {
  return {
    kind: 'js',
    allocU32: (length) => new Uint32Array(length),
    allocF32: (length) => new Float32Array(length),
    nttForward,
    nttInverse,
    intt128,
    mulAdd,
    foldDot,
    macMont,
    macMont2,
    foldDotPair,
    macMontPair,
    foldAccumulate,
    dotF32,
    blockAccumulate,
    ternaryFromBytes,
    cbdFromBytes,
    smallToResidues,
  };
}

export function nttForwardGeneric(a: Uint32Array, p: number, psiRev: Uint32Array): void {
  const n = a.length;
  let t = n;
  for (let m = 1; m < n; m <<= 1) {
    t >>= 1;
    for (let i = 0; i < m; i++) {
      const j1 = 2 * i * t;
      const s = psiRev[m + i] ?? 0;
      for (let j = j1; j < j1 + t; j++) {
        const u = a[j] ?? 0;
        const v = mulModCt(a[j + t] ?? 0, s, p);
        a[j] = addModCt(u, v, p);
        a[j + t] = subModCt(u, v, p);
      }
    }
  }
}

export function nttInverseGeneric(a: Uint32Array, p: number, psiInvRev: Uint32Array, nInv: number): void {
  const n = a.length;
  let t = 1;
  for (let m = n; m > 1; m >>= 1) {
    const h = m >> 1;
    let j1 = 0;
    for (let i = 0; i < h; i++) {
      const s = psiInvRev[h + i] ?? 0;
      for (let j = j1; j < j1 + t; j++) {
        const u = a[j] ?? 0;
        const v = a[j + t] ?? 0;
        a[j] = addModCt(u, v, p);
        a[j + t] = mulModCt(subModCt(u, v, p), s, p);
      }
      j1 += 2 * t;
    }
    t <<= 1;
  }
  for (let j = 0; j < n; j++) a[j] = mulModCt(a[j] ?? 0, nInv, p);
}

function nttForward(a: Uint32Array, t: PrimeTables): void {
  checkLength(a, t.n);
  nttForwardGeneric(a, t.p, t.psiRev);
}

function nttInverse(a: Uint32Array, t: PrimeTables): void {
  checkLength(a, t.n);
  nttInverseGeneric(a, t.p, t.psiInvRev, t.nInv);
}

function intt128(a: Uint32Array, t: PrimeTables): void {
  checkLength(a, t.psi128InvRev.length);
  nttInverseShoup(a, t.p, t.psi128InvRev, t.n128Inv);
}

/** twiddle/p as float64 per public twiddle table (Shoup quotients for nttInverseShoup). */
const twiddleQuotients = new WeakMap<Uint32Array, Float64Array>();
function quotientsOf(tw: Uint32Array, p: number): Float64Array {
  let q = twiddleQuotients.get(tw);
  if (q === undefined) {
    q = Float64Array.from(tw, (w) => w / p);
    twiddleQuotients.set(tw, q);
  }
  return q;
}

/**
 * (x·w) mod p for x, w in [0, p) with wOverP = w/p, division-free and branchless: the float quotient is
 * within ±1 of ⌊x·w/p⌋, so the int32 remainder is exact and lies in [-p, 2p) before the corrections.
 */
function mulShoup(x: number, w: number, wOverP: number, p: number): number {
  let r = (Math.imul(x, w) - Math.imul(Math.floor(x * wOverP), p)) | 0;
  r += (r >> 31) & p;
  r -= p;
  return r + ((r >> 31) & p);
}

/** nttInverseGeneric with Shoup products (public twiddles, secret data): same output, ~2× faster. */
function nttInverseShoup(a: Uint32Array, p: number, psiInvRev: Uint32Array, nInv: number): void {
  const n = a.length;
  const q = quotientsOf(psiInvRev, p);
  let t = 1;
  for (let m = n; m > 1; m >>= 1) {
    const h = m >> 1;
    let j1 = 0;
    for (let i = 0; i < h; i++) {
      const s = psiInvRev[h + i] ?? 0;
      const sq = q[h + i] ?? 0;
      for (let j = j1; j < j1 + t; j++) {
        const u = a[j] ?? 0;
        const v = a[j + t] ?? 0;
        a[j] = addModCt(u, v, p);
        a[j + t] = mulShoup(subModCt(u, v, p), s, sq, p);
      }
      j1 += 2 * t;
    }
    t <<= 1;
  }
  const nq = nInv / p;
  for (let j = 0; j < n; j++) a[j] = mulShoup(a[j] ?? 0, nInv, nq, p);
}

function mulAdd(out: Uint32Array, a: Uint32Array, b: Uint32Array, add: Uint32Array, t: PrimeTables): void {
  const p = t.p;
  for (let c = 0; c < t.n; c++) out[c] = addModCt(mulModCt(a[c] ?? 0, b[c] ?? 0, p), add[c] ?? 0, p);
}

function foldDot(poly: Uint32Array, qf: Uint32Array, chunks: number, t: PrimeTables, out: Uint32Array): void {
  const p = t.p;
  const groupWords = chunks * 32;
  const groups = t.n / 32;
  for (let g = 0; g < groups; g++) {
    let acc = 0;
    const base = g * groupWords;
    // Reduce each product at once: a float64 sum of reduced terms stays exact (< 2^53) for chunks < 2^21.
    for (let w = base; w < base + groupWords; w++) acc += ((poly[w] ?? 0) * (qf[w] ?? 0)) % p;
    out[g] = acc % p;
  }
}

/** 2^-32 mod p, cached per prime. */
const montInvCache = new Map<number, number>();
function montInv(t: PrimeTables): number {
  let v = montInvCache.get(t.p);
  if (v === undefined) {
    v = invMod(t.montR, t.p);
    montInvCache.set(t.p, v);
  }
  return v;
}

function macMont(poly: Uint32Array, qm: Uint32Array, chunks: number, t: PrimeTables, out: Uint32Array): void {
  const p = t.p;
  const rInv = montInv(t);
  for (let c = 0; c < t.n; c++) {
    let acc = 0;
    for (let j = 0; j < chunks; j++) {
      const o = layoutOffset(c, j, chunks);
      acc += ((poly[o] ?? 0) * (qm[o] ?? 0)) % p;
    }
    out[c] = ((acc % p) * rInv) % p;
  }
}

function macMont2(
  a: Uint32Array,
  x: Uint32Array,
  b: Uint32Array,
  y: Uint32Array,
  chunks: number,
  t: PrimeTables,
  out: Uint32Array,
): void {
  const p = t.p;
  const rInv = montInv(t);
  for (let c = 0; c < t.n; c++) {
    let acc = 0;
    for (let j = 0; j < chunks; j++) {
      const o = layoutOffset(c, j, chunks);
      acc += ((a[o] ?? 0) * (x[o] ?? 0)) % p;
      acc += ((b[o] ?? 0) * (y[o] ?? 0)) % p;
    }
    out[c] = ((acc % p) * rInv) % p;
  }
}

/** Reference of the paired kernel: by definition, the single-block kernel applied to each block. */
function foldDotPair(
  polyA: Uint32Array,
  polyB: Uint32Array,
  qf: Uint32Array,
  chunks: number,
  t: PrimeTables,
  outA: Uint32Array,
  outB: Uint32Array,
): void {
  foldDot(polyA, qf, chunks, t, outA);
  foldDot(polyB, qf, chunks, t, outB);
}

function macMontPair(
  polyA: Uint32Array,
  polyB: Uint32Array,
  qm: Uint32Array,
  chunks: number,
  t: PrimeTables,
  outA: Uint32Array,
  outB: Uint32Array,
): void {
  macMont(polyA, qm, chunks, t, outA);
  macMont(polyB, qm, chunks, t, outB);
}

function foldAccumulate(
  y: Uint32Array,
  r: Uint32Array,
  w: Uint32Array,
  t: PrimeTables,
  out: Uint32Array,
): void {
  const p = t.p;
  const pInv = 1 / p;
  const groups = t.n / 32;
  for (let a = 0; a < groups; a++) {
    // w is derived from the secret key: no `%`, no branch. Split w = wh·2^13 + wl (wh, wl < 2^13), so
    // each of the two float64 sums of 32 products r·wh, r·wl stays below 2^44 and exact; reduce once.
    let sh = 0;
    let sl = 0;
    for (let i = 32 * a; i < 32 * a + 32; i++) {
      const wi = w[i] ?? 0;
      const ri = r[i] ?? 0;
      sh += ri * (wi >>> 13);
      sl += ri * (wi & 0x1fff);
    }
    // sh mod p up to one p either way (the float quotient is within ±1), then the exact total < 2^45.
    const hr = sh - Math.floor(sh * pInv) * p;
    const x = hr * 8192 + sl + (y[a] ?? 0);
    let v = (x - Math.floor(x * pInv) * p) | 0;
    v += (v >> 31) & p;
    v -= p;
    out[a] = v + ((v >> 31) & p);
  }
}

function dotF32(db: Float32Array, q: Float32Array, dim: number, count: number, out: Float32Array): void {
  for (let v = 0; v < count; v++) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    const base = v * dim;
    for (let d = 0; d < dim; d += 4) {
      s0 = Math.fround(s0 + Math.fround((db[base + d] ?? 0) * (q[d] ?? 0)));
      s1 = Math.fround(s1 + Math.fround((db[base + d + 1] ?? 0) * (q[d + 1] ?? 0)));
      s2 = Math.fround(s2 + Math.fround((db[base + d + 2] ?? 0) * (q[d + 2] ?? 0)));
      s3 = Math.fround(s3 + Math.fround((db[base + d + 3] ?? 0) * (q[d + 3] ?? 0)));
    }
    out[v] = Math.fround(Math.fround(s0 + s1) + Math.fround(s2 + s3));
  }
}

function blockAccumulate(
  region: Uint32Array,
  src: Uint32Array,
  srcStride: number,
  chunks: number,
  row: Uint32Array,
  t: PrimeTables,
): void {
  const p = t.p;
  const groups = t.n / 32;
  // Walk the region in storage order: [group g][quad k][chunk j][lane l], slot c = 32g+4k+l.
  let o = 0;
  for (let g = 0; g < groups; g++) {
    const w = row[g] ?? 0;
    const wOverP = w / p;
    for (let k = 0; k < 8; k++) {
      for (let j = 0; j < chunks; j++) {
        const base = j * srcStride + 32 * g + 4 * k;
        for (let l = 0; l < 4; l++) {
          const x = src[base + l] ?? 0;
          // Shoup-style product: the float quotient is within ±1, the int32 remainder is exact.
          let r = (Math.imul(x, w) - Math.imul(Math.floor(x * wOverP), p)) | 0;
          r += (r >> 31) & p;
          r -= p;
          r += (r >> 31) & p;
          const sum = (region[o] ?? 0) + r - p;
          region[o] = sum + ((sum >> 31) & p);
          o++;
        }
      }
    }
  }
}

/** As sampling.ts's toResidues, over the first t.n entries. */
function smallToResidues(src: Int32Array, t: PrimeTables, out: Uint32Array): void {
  const p = t.p;
  for (let i = 0; i < t.n; i++) {
    const x = src[i] ?? 0;
    out[i] = x + ((x >> 31) & p);
  }
}

/** (u + v) mod p for u, v in [0, p), without a data-dependent branch. */
function addModCt(u: number, v: number, p: number): number {
  const s = u + v - p;
  return s + ((s >> 31) & p);
}

/** (u - v) mod p for u, v in [0, p), without a data-dependent branch. */
function subModCt(u: number, v: number, p: number): number {
  const d = u - v;
  return d + ((d >> 31) & p);
}

function checkLength(a: Uint32Array, n: number): void {
  if (a.length !== n) throw new RangeError(`expected a polynomial of ${n} coefficients, got ${a.length}`);
}
