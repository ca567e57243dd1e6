import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { CryptoError } from '../src/errors.js';
import { createJsKernels, nttInverseGeneric } from '../src/kernels/js-kernels.js';
import type { Kernels } from '../src/kernels/types.js';
import { layoutOffset } from '../src/layout.js';
import { PARAM_SETS } from '../src/params.js';
import { cbdFromWords, int32View } from '../src/sampling.js';
import { allPrimeTables, type PrimeTables } from '../src/tables.js';
import { KERNEL_LAYOUT, KERNELS_WASM_BASE64 } from '../src/wasm/kernels-wasm.js';
import { compileKernelModule, createWasmKernels, type WasmKernels } from '../src/wasm/wasm-kernels.js';

const N = 4096;
const GROUPS = 128;
const js = createJsKernels();
const wasm = createWasmKernels();

/** Every prime of every parameter set (a prime shared by two sets is tested under each). */
const PRIMES: readonly { name: string; t: PrimeTables }[] = PARAM_SETS.flatMap((ps) =>
  allPrimeTables(ps).map((t, i) => ({ name: `${ps.name} p${i}=${t.p}`, t })),
);

/** Base seed of this run, reported on failure so a mismatch can be replayed. */
const RUN_SEED = randomInt(2 ** 31);

/** xorshift32 stream: fast enough for the megabytes of residues these tests need. */
function rng(seed: number): () => number {
  let s = (seed ^ 0x9e3779b9) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

type Fill = 'random' | 'max';

function residues(length: number, p: number, fill: Fill, seed: number): Uint32Array {
  const out = new Uint32Array(length);
  if (fill === 'max') return out.fill(p - 1);
  const next = rng(seed);
  for (let i = 0; i < length; i++) out[i] = next() % p;
  return out;
}

type Where = 'outside' | 'inside';
const WHERE: readonly Where[] = ['outside', 'inside'];
const FILLS: readonly Fill[] = ['random', 'max'];

/** The same contents, either as a plain array (copied by the kernels) or in kernel memory (zero copy). */
function place(k: WasmKernels, src: Uint32Array, where: Where): Uint32Array {
  if (where === 'outside') return src.slice();
  const a = k.allocU32(src.length);
  a.set(src);
  return a;
}

function expectSame(actual: Uint32Array, expected: Uint32Array, context: string): void {
  expect(actual.length, context).toBe(expected.length);
  const i = actual.findIndex((v, j) => v !== expected[j]);
  expect(i, `${context}: first mismatch at ${i} (${actual[i]} vs ${expected[i]}), run seed ${RUN_SEED}`).toBe(
    -1,
  );
}

function primeAt(i: number): PrimeTables {
  const entry = PRIMES.at(i);
  if (entry === undefined) throw new Error(`no prime tables at ${i}`);
  return entry.t;
}

let seedCounter = 0;
const nextSeed = (): number => RUN_SEED + seedCounter++;

/** Random bytes where the byte 255 (rejected by ternary sampling) has probability `p255`. */
function bytesWith255(length: number, p255: number, seed: number): Uint8Array {
  const next = rng(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = next() / 2 ** 32 < p255 ? 255 : next() & 0xff;
  return out;
}

/** A byte array (or an Int32Array) with the same contents in kernel memory, at a byte offset ≡ `shift` mod 16. */
function placeBytes(k: WasmKernels, src: Uint8Array, where: Where, shift = 0): Uint8Array {
  if (where === 'outside') {
    const raw = new Uint8Array(src.length + shift);
    raw.set(src, shift);
    return raw.subarray(shift);
  }
  const raw = k.allocU32(Math.ceil((src.length + shift) / 4));
  const view = new Uint8Array(raw.buffer, raw.byteOffset + shift, src.length);
  view.set(src);
  return view;
}

function placeI32(k: WasmKernels, src: Int32Array, where: Where): Int32Array {
  if (where === 'outside') return src.slice();
  const a = int32View(k.allocU32(src.length));
  a.set(src);
  return a;
}

function expectSameI32(actual: Int32Array, expected: Int32Array, context: string): void {
  expectSame(
    new Uint32Array(actual.buffer, actual.byteOffset, actual.length),
    new Uint32Array(expected.buffer, expected.byteOffset, expected.length),
    context,
  );
}

describe('WASM kernels agree with the JS reference bit for bit', () => {
  for (const { name, t } of PRIMES) {
    describe(name, () => {
      it('nttForward and nttInverse produce the reference output, random and all p-1, in and out of kernel memory', () => {
        for (const fill of FILLS) {
          for (const where of WHERE) {
            const src = residues(N, t.p, fill, nextSeed());
            const expected = src.slice();
            js.nttForward(expected, t);
            const a = place(wasm, src, where);
            wasm.nttForward(a, t);
            expectSame(a, expected, `nttForward ${fill} ${where}`);

            const expectedInv = src.slice();
            js.nttInverse(expectedInv, t);
            const b = place(wasm, src, where);
            wasm.nttInverse(b, t);
            expectSame(b, expectedInv, `nttInverse ${fill} ${where}`);
          }
        }
      });

      it('intt128 produces the reference output', () => {
        for (const fill of FILLS) {
          for (const where of WHERE) {
            const src = residues(GROUPS, t.p, fill, nextSeed());
            const expected = src.slice();
            js.intt128(expected, t);
            const a = place(wasm, src, where);
            wasm.intt128(a, t);
            expectSame(a, expected, `intt128 ${fill} ${where}`);
          }
        }
      });

      it('mulAdd produces the reference output, also when out aliases add', () => {
        for (const fill of FILLS) {
          for (const where of WHERE) {
            const [a, b, c] = [0, 1, 2].map(() => residues(N, t.p, fill, nextSeed())) as [
              Uint32Array,
              Uint32Array,
              Uint32Array,
            ];
            const expected = new Uint32Array(N);
            js.mulAdd(expected, a, b, c, t);
            const out = place(wasm, new Uint32Array(N), where);
            wasm.mulAdd(out, place(wasm, a, where), place(wasm, b, where), place(wasm, c, where), t);
            expectSame(out, expected, `mulAdd ${fill} ${where}`);
            const acc = place(wasm, c, where);
            wasm.mulAdd(acc, place(wasm, a, where), place(wasm, b, where), acc, t);
            expectSame(acc, expected, `mulAdd aliased ${fill} ${where}`);
          }
        }
      });

      it('foldDot produces the reference output for 1, 12, 32, 64 and 127 chunks', () => {
        for (const chunks of [1, 12, 32, 64, 127]) {
          for (const fill of FILLS) {
            const where: Where = chunks % 2 === 0 ? 'inside' : 'outside';
            const poly = residues(chunks * N, t.p, fill, nextSeed());
            const qf = residues(chunks * N, t.p, fill, nextSeed());
            const expected = new Uint32Array(GROUPS);
            js.foldDot(poly, qf, chunks, t, expected);
            const out = place(wasm, new Uint32Array(GROUPS), where);
            wasm.foldDot(place(wasm, poly, where), place(wasm, qf, where), chunks, t, out);
            expectSame(out, expected, `foldDot J=${chunks} ${fill} ${where}`);
          }
        }
      });

      it('macMont produces the reference output for 1, 12, 32 and 64 chunks', () => {
        for (const chunks of [1, 12, 32, 64]) {
          for (const fill of FILLS) {
            for (const where of WHERE) {
              const poly = residues(chunks * N, t.p, fill, nextSeed());
              const qm = residues(chunks * N, t.p, fill, nextSeed());
              const expected = new Uint32Array(N);
              js.macMont(poly, qm, chunks, t, expected);
              const out = place(wasm, new Uint32Array(N), where);
              wasm.macMont(place(wasm, poly, where), place(wasm, qm, where), chunks, t, out);
              expectSame(out, expected, `macMont J=${chunks} ${fill} ${where}`);
            }
          }
        }
      });

      it('macMont2 produces the reference output for 1, 12 and 32 chunks', () => {
        for (const chunks of [1, 12, 32]) {
          for (const fill of FILLS) {
            const where: Where = chunks === 12 ? 'outside' : 'inside';
            const [a, x, b, y] = [0, 1, 2, 3].map(() => residues(chunks * N, t.p, fill, nextSeed())) as [
              Uint32Array,
              Uint32Array,
              Uint32Array,
              Uint32Array,
            ];
            const expected = new Uint32Array(N);
            js.macMont2(a, x, b, y, chunks, t, expected);
            const out = place(wasm, new Uint32Array(N), where);
            const args = [a, x, b, y].map((v) => place(wasm, v, where));
            wasm.macMont2(args[0] ?? a, args[1] ?? x, args[2] ?? b, args[3] ?? y, chunks, t, out);
            expectSame(out, expected, `macMont2 J=${chunks} ${fill} ${where}`);
          }
        }
      });

      it('foldDotPair and macMontPair equal the single-block kernels on each block, bit for bit', () => {
        for (const chunks of [1, 12, 64]) {
          for (const fill of FILLS) {
            for (const where of WHERE) {
              const [a, b, q] = [0, 1, 2].map(() => residues(chunks * N, t.p, fill, nextSeed())) as [
                Uint32Array,
                Uint32Array,
                Uint32Array,
              ];
              const [pa, pb, pq] = [a, b, q].map((v) => place(wasm, v, where)) as [
                Uint32Array,
                Uint32Array,
                Uint32Array,
              ];
              for (const [name, words] of [
                ['foldDot', GROUPS],
                ['macMont', N],
              ] as const) {
                const [ea, eb] = [new Uint32Array(words), new Uint32Array(words)];
                js[name](a, q, chunks, t, ea);
                js[name](b, q, chunks, t, eb);
                const [ja, jb] = [new Uint32Array(words), new Uint32Array(words)];
                js[`${name}Pair`](a, b, q, chunks, t, ja, jb);
                expectSame(ja, ea, `js ${name}Pair a J=${chunks} ${fill}`);
                expectSame(jb, eb, `js ${name}Pair b J=${chunks} ${fill}`);
                const [oa, ob] = [
                  place(wasm, new Uint32Array(words), where),
                  place(wasm, new Uint32Array(words), where),
                ];
                wasm[`${name}Pair`](pa, pb, pq, chunks, t, oa, ob);
                expectSame(oa, ea, `${name}Pair a J=${chunks} ${fill} ${where}`);
                expectSame(ob, eb, `${name}Pair b J=${chunks} ${fill} ${where}`);
              }
            }
          }
        }
      });

      it('the JS foldAccumulate and intt128 match their definitions (BigInt sums, the generic NTT)', () => {
        for (const fill of FILLS) {
          const y = residues(GROUPS, t.p, fill, nextSeed());
          const r = residues(N, t.p, fill, nextSeed());
          const w = residues(N, t.p, fill, nextSeed());
          const out = new Uint32Array(GROUPS);
          js.foldAccumulate(y, r, w, t, out);
          const expected = Uint32Array.from({ length: GROUPS }, (_, g) => {
            let s = BigInt(y[g] ?? 0);
            for (let i = 32 * g; i < 32 * g + 32; i++) s += BigInt(r[i] ?? 0) * BigInt(w[i] ?? 0);
            return Number(s % BigInt(t.p));
          });
          expectSame(out, expected, `js foldAccumulate ${fill}`);
          const a = residues(GROUPS, t.p, fill, nextSeed());
          const ref = a.slice();
          nttInverseGeneric(ref, t.p, t.psi128InvRev, t.n128Inv);
          js.intt128(a, t);
          expectSame(a, ref, `js intt128 ${fill}`);
        }
      });

      it('foldAccumulate produces the reference output, also when out aliases y', () => {
        for (const fill of FILLS) {
          for (const where of WHERE) {
            const y = residues(GROUPS, t.p, fill, nextSeed());
            const r = residues(N, t.p, fill, nextSeed());
            const w = residues(N, t.p, fill, nextSeed());
            const expected = new Uint32Array(GROUPS);
            js.foldAccumulate(y, r, w, t, expected);
            const out = place(wasm, new Uint32Array(GROUPS), where);
            wasm.foldAccumulate(place(wasm, y, where), place(wasm, r, where), place(wasm, w, where), t, out);
            expectSame(out, expected, `foldAccumulate ${fill} ${where}`);
            const acc = place(wasm, y, where);
            wasm.foldAccumulate(acc, place(wasm, r, where), place(wasm, w, where), t, acc);
            expectSame(acc, expected, `foldAccumulate aliased ${fill} ${where}`);
          }
        }
      });
    });
  }

  for (const { name, t } of PRIMES) {
    describe(`${name} (insert path)`, () => {
      it('blockAccumulate matches the reference and the definition for 1, 12 and 64 chunks, any stride', () => {
        const p = t.p;
        const cases: { chunks: number; stride: number; fill: Fill; where: Where; srcWhere: Where }[] = [
          { chunks: 12, stride: 4 * N, fill: 'random', where: 'inside', srcWhere: 'outside' },
          { chunks: 12, stride: 4 * N, fill: 'random', where: 'inside', srcWhere: 'inside' },
          { chunks: 12, stride: 6 * N, fill: 'max', where: 'inside', srcWhere: 'outside' },
          { chunks: 1, stride: N, fill: 'random', where: 'outside', srcWhere: 'outside' },
          { chunks: 64, stride: N, fill: 'random', where: 'inside', srcWhere: 'inside' },
          { chunks: 3, stride: N + 4, fill: 'max', where: 'outside', srcWhere: 'inside' },
        ];
        for (const { chunks, stride, fill, where, srcWhere } of cases) {
          const context = `blockAccumulate J=${chunks} stride=${stride} ${fill} region ${where} src ${srcWhere}`;
          const region = residues(chunks * N, p, fill, nextSeed());
          const src = residues((chunks - 1) * stride + N, p, fill, nextSeed());
          const row = residues(GROUPS, p, fill, nextSeed());
          // Extreme multipliers: 0, 1 and p - 1 (a negated 1).
          row[0] = 0;
          row[1] = 1;
          row[2] = p - 1;
          const expected = region.slice();
          js.blockAccumulate(expected, src, stride, chunks, row, t);
          const got = place(wasm, region, where);
          wasm.blockAccumulate(
            got,
            place(wasm, src, srcWhere),
            stride,
            chunks,
            place(wasm, row, 'inside'),
            t,
          );
          expectSame(got, expected, context);
          // The definition, on a sample of slots (the reference itself is under test here).
          for (let c = 0; c < N; c += 37) {
            for (let j = 0; j < chunks; j += 5) {
              const o = layoutOffset(c, j, chunks);
              const product = ((src[j * stride + c] ?? 0) * (row[c >>> 5] ?? 0)) % p;
              expect(expected[o], `${context} c=${c} j=${j}`).toBe(((region[o] ?? 0) + product) % p);
            }
          }
        }
      });

      it('blockAccumulate with a negated row undoes itself', () => {
        const chunks = 12;
        const region = place(wasm, residues(chunks * N, t.p, 'random', nextSeed()), 'inside');
        const before = region.slice();
        const src = residues(chunks * 4 * N, t.p, 'random', nextSeed());
        const row = residues(GROUPS, t.p, 'random', nextSeed());
        const negated = row.map((w) => (t.p - w) % t.p);
        wasm.blockAccumulate(region, src, 4 * N, chunks, row, t);
        wasm.blockAccumulate(region, src, 4 * N, chunks, negated, t);
        expectSame(region, before, 'add then subtract');
      });

      it('smallToResidues maps every small value, including ±(p - 1), into [0, p)', () => {
        const p = t.p;
        const next = rng(nextSeed());
        const src = new Int32Array(N);
        for (let i = 0; i < N; i++)
          src[i] = i % 3 === 0 ? (next() % 43) - 21 : (next() % (2 * p - 1)) - (p - 1);
        src.set([0, 1, -1, p - 1, -(p - 1), 21, -21], 0);
        for (const where of WHERE) {
          const expected = new Uint32Array(N);
          js.smallToResidues(src, t, expected);
          const out = place(wasm, new Uint32Array(N), where);
          wasm.smallToResidues(placeI32(wasm, src, where), t, out);
          expectSame(out, expected, `smallToResidues ${where}`);
          for (let i = 0; i < N; i++) {
            const x = src[i] ?? 0;
            if (expected[i] !== (x < 0 ? x + p : x))
              throw new Error(`smallToResidues(${x}) = ${expected[i]}`);
          }
        }
      });
    });
  }

  it('ternaryFromBytes fills like the reference for any batch length, start and rejection rate', () => {
    const cases: { count: number; len: number; start: number; p255: number }[] = [
      { count: N, len: N + 16, start: 0, p255: 1 / 256 },
      { count: N, len: N + 16, start: 0, p255: 0.02 }, // runs out of bytes: a second batch follows
      { count: N, len: 40, start: 4070, p255: 0.3 },
      { count: N, len: N + 16, start: 0, p255: 0 },
      { count: N, len: 1000, start: 0, p255: 1 }, // every byte rejected
      { count: N, len: 0, start: 17, p255: 0 },
      { count: N, len: 64, start: N, p255: 0 }, // already full
      { count: 100, len: 117, start: 3, p255: 0.1 },
      { count: 17, len: 200, start: 0, p255: 0.05 },
      { count: 5, len: 3, start: 0, p255: 0 },
    ];
    for (const { count, len, start, p255 } of cases) {
      for (const where of WHERE) {
        for (const shift of [0, 1, 3]) {
          const context = `ternary count=${count} len=${len} start=${start} p255=${p255} ${where} +${shift}`;
          const bytes = bytesWith255(len, p255, nextSeed());
          if (len > 0 && p255 === 0) bytes[len - 1] = 254; // the largest accepted byte
          // Entries before `start` (and unfilled ones) must be left alone: start from a marker.
          const initial = new Int32Array(count).fill(7);
          const expected = initial.slice();
          const filled = js.ternaryFromBytes(bytes, expected, start);
          const out = placeI32(wasm, initial, where);
          expect(wasm.ternaryFromBytes(placeBytes(wasm, bytes, where, shift), out, start), context).toBe(
            filled,
          );
          expectSameI32(out, expected, context);
        }
      }
    }
  });

  it('ternaryFromBytes maps every accepted byte value to b mod 3 - 1', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, b) => b);
    for (const where of WHERE) {
      const out = placeI32(wasm, new Int32Array(255), where);
      expect(wasm.ternaryFromBytes(placeBytes(wasm, bytes, where), out, 0)).toBe(255);
      expect(Array.from(out)).toEqual(Array.from({ length: 255 }, (_, b) => (b % 3) - 1));
    }
  });

  it('cbdFromBytes matches the reference for every η, any alignment, and extreme words', () => {
    for (const eta of [1, 2, 20, 21, 31, 32]) {
      for (const [count, fill] of [
        [N, 'random'],
        [N, 'ones'],
        [N, 'zeros'],
        [7, 'random'],
        [0, 'random'],
      ] as const) {
        const next = rng(nextSeed());
        const bytes = new Uint8Array(8 * count);
        if (fill === 'random') for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
        if (fill === 'ones') bytes.fill(0xff);
        // Alternate all-ones and all-zero words: extremes ±η.
        if (fill === 'random' && count > 2)
          bytes.fill(0xff, 0, 4).fill(0, 4, 8).fill(0, 8, 12).fill(0xff, 12, 16);
        const expected = new Int32Array(count);
        js.cbdFromBytes(bytes, eta, expected);
        const viaWords = new Int32Array(count);
        cbdFromWords(new Uint32Array(bytes.slice().buffer), eta, viaWords);
        expectSameI32(expected, viaWords, `cbd η=${eta} reference from bytes and from words`);
        for (const where of WHERE) {
          for (const shift of [0, 1, 2, 3]) {
            const context = `cbd η=${eta} count=${count} ${fill} ${where} +${shift}`;
            const out = placeI32(wasm, new Int32Array(count), where);
            wasm.cbdFromBytes(placeBytes(wasm, bytes, where, shift), eta, out);
            expectSameI32(out, expected, context);
            // The JS reference reads unaligned bytes the same way.
            const jsOut = new Int32Array(count);
            js.cbdFromBytes(placeBytes(wasm, bytes, 'outside', shift), eta, jsOut);
            expectSameI32(jsOut, expected, `${context} (js unaligned)`);
          }
        }
        if (count >= 4 && fill === 'random') {
          expect(expected[0]).toBe(eta);
          expect(expected[1]).toBe(-eta);
        }
        if (fill === 'ones' || fill === 'zeros') expect(expected.every((v) => v === 0)).toBe(true);
      }
    }
  });

  it('the forward then inverse NTT returns the input for every prime', () => {
    for (const { name, t } of PRIMES) {
      const src = residues(N, t.p, 'random', nextSeed());
      const a = place(wasm, src, 'inside');
      wasm.nttForward(a, t);
      wasm.nttInverse(a, t);
      expectSame(a, src, `round trip ${name}`);
    }
  });

  it('dotF32 equals the reference within 1e-5 relative (its four accumulators sum in another order)', () => {
    const next = rng(nextSeed());
    for (const dim of [384, 4, 12, 20, 388, 1024]) {
      const count = 37;
      const db = Float32Array.from({ length: dim * count }, () => next() / 2 ** 31 - 1);
      const q = Float32Array.from({ length: dim }, () => next() / 2 ** 31 - 1);
      const expected = new Float32Array(count);
      js.dotF32(db, q, dim, count, expected);
      for (const where of WHERE) {
        const out = new Float32Array(count);
        if (where === 'inside') {
          const d = wasm.allocF32(db.length);
          d.set(db);
          const qq = wasm.allocF32(q.length);
          qq.set(q);
          const o = wasm.allocF32(count);
          wasm.dotF32(d, qq, dim, count, o);
          out.set(o);
        } else {
          wasm.dotF32(db, q, dim, count, out);
        }
        for (let v = 0; v < count; v++) {
          let scale = 0;
          for (let i = 0; i < dim; i++) scale += Math.abs((db[v * dim + i] ?? 0) * (q[i] ?? 0));
          const diff = Math.abs((out[v] ?? 0) - (expected[v] ?? 0));
          expect(diff, `dim ${dim} vector ${v} ${where}`).toBeLessThanOrEqual(1e-5 * scale);
        }
      }
    }
  });
});

describe('worker-side instances on the same shared memory', () => {
  const worker = createWasmKernels({ memory: wasm.memory, module: wasm.module });
  const t = primeAt(-1);
  for (const { t: tt } of PRIMES) wasm.ensureTables(tt);

  it('give results identical to the main instance for every kernel', () => {
    const chunks = 12;
    const inMemory = (length: number): Uint32Array =>
      place(wasm, residues(length, t.p, 'random', nextSeed()), 'inside');
    const a = inMemory(N);
    const b = inMemory(N);
    const c = inMemory(N);
    const poly = inMemory(chunks * N);
    const q = inMemory(chunks * N);
    const y = inMemory(GROUPS);
    const small = int32View(inMemory(N));
    for (let i = 0; i < N; i++) small[i] = (i % 43) - 21;
    type Run = (k: Kernels, out: Uint32Array) => void;
    const runs: [string, number, Run][] = [
      [
        'nttForward',
        N,
        (k, out) => {
          out.set(a);
          k.nttForward(out, t);
        },
      ],
      [
        'nttInverse',
        N,
        (k, out) => {
          out.set(a);
          k.nttInverse(out, t);
        },
      ],
      [
        'intt128',
        GROUPS,
        (k, out) => {
          out.set(y);
          k.intt128(out, t);
        },
      ],
      [
        'mulAdd',
        N,
        (k, out) => {
          k.mulAdd(out, a, b, c, t);
        },
      ],
      [
        'foldDot',
        GROUPS,
        (k, out) => {
          k.foldDot(poly, q, chunks, t, out);
        },
      ],
      [
        'macMont',
        N,
        (k, out) => {
          k.macMont(poly, q, chunks, t, out);
        },
      ],
      [
        'macMont2',
        N,
        (k, out) => {
          k.macMont2(poly, q, q, poly, chunks, t, out);
        },
      ],
      [
        'foldAccumulate',
        GROUPS,
        (k, out) => {
          k.foldAccumulate(y, a, b, t, out);
        },
      ],
      [
        'blockAccumulate',
        chunks * N,
        (k, out) => {
          out.set(poly);
          k.blockAccumulate(out, q, N, chunks, y, t);
        },
      ],
      [
        'smallToResidues',
        N,
        (k, out) => {
          k.smallToResidues(small, t, out);
        },
      ],
      [
        'cbdFromBytes',
        N,
        (k, out) => {
          k.cbdFromBytes(new Uint8Array(q.buffer, q.byteOffset + 1, 8 * N), 21, int32View(out));
        },
      ],
      [
        'ternaryFromBytes',
        N,
        (k, out) => {
          const filled = k.ternaryFromBytes(
            new Uint8Array(q.buffer, q.byteOffset + 3, N + 16),
            int32View(out),
            0,
          );
          out[0] = filled;
        },
      ],
    ];
    for (const [name, length, run] of runs) {
      const mainOut = wasm.allocU32(length);
      const workerOut = wasm.allocU32(length);
      run(wasm, mainOut);
      run(worker, workerOut);
      expectSame(workerOut, mainOut, name);
    }
  });

  it('accept views of kernel memory by byte offset and SharedArrayBuffer clones (as postMessage makes)', () => {
    const src = place(wasm, residues(N, t.p, 'random', nextSeed()), 'inside');
    const expected = src.slice();
    js.nttForward(expected, t);
    const byOffset = worker.viewU32(src.byteOffset, N);
    worker.nttForward(byOffset, t);
    expectSame(src, expected, 'viewU32');

    const again = place(wasm, residues(N, t.p, 'random', nextSeed()), 'inside');
    const expectedAgain = again.slice();
    js.nttForward(expectedAgain, t);
    const cloned = new Uint32Array(structuredClone(again.buffer), again.byteOffset, N);
    expect(cloned.buffer).not.toBe(again.buffer);
    worker.nttForward(cloned, t);
    expectSame(again, expectedAgain, 'cloned SharedArrayBuffer');
  });

  it('refuse to allocate, to copy arrays, or to upload tables', () => {
    expect(worker.ownsMemory).toBe(false);
    expect(() => worker.allocU32(4)).toThrow(/cannot allocate/);
    expect(() => worker.allocF32(4)).toThrow(/cannot allocate/);
    expect(() => {
      worker.nttForward(new Uint32Array(N), t);
    }).toThrow(RangeError);
    const foreign = { ...t, p: 65537 * 1024 + 1 } satisfies PrimeTables;
    expect(() => worker.ensureTables(foreign)).toThrow(/ensureTables on the main instance/);
  });

  it('reject a memory that no main instance initialised', () => {
    const memory = { buffer: new SharedArrayBuffer(65536), grow: () => 1 };
    expect(() => createWasmKernels({ memory, module: wasm.module })).toThrow(TypeError);
  });
});

describe('kernel memory', () => {
  it('allocates zeroed, 16-byte-aligned views that stay valid when memory grows', () => {
    const k = createWasmKernels();
    const a = k.allocU32(5);
    const b = k.allocF32(3);
    expect(a.byteOffset % 16).toBe(0);
    expect(b.byteOffset % 16).toBe(0);
    expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + 20);
    expect([...a, ...b].every((v) => v === 0)).toBe(true);
    const t = primeAt(0);
    const poly = k.allocU32(N);
    poly.set(residues(N, t.p, 'random', nextSeed()));
    const expected = poly.slice();
    js.nttForward(expected, t);
    const before = k.memory.buffer.byteLength;
    const big = k.allocU32(8 << 20); // 32 MiB forces a grow
    expect(k.memory.buffer.byteLength).toBeGreaterThan(before);
    big[big.length - 1] = 7;
    k.nttForward(poly, t); // allocated before the grow: still recognised as kernel memory
    expectSame(poly, expected, 'nttForward after grow');
    expect(big[big.length - 1]).toBe(7);
  });

  it('uploads each prime once per memory and records it in the header directory', () => {
    const k = createWasmKernels();
    const t = primeAt(0);
    const first = k.ensureTables(t);
    expect(k.ensureTables(t)).toBe(first);
    expect(first % 16).toBe(0);
    const header = new Uint32Array(k.memory.buffer, 0, KERNEL_LAYOUT.headerBytes / 4);
    expect(header[KERNEL_LAYOUT.headerWord.tableCount]).toBe(1);
    expect(header[KERNEL_LAYOUT.directoryWord]).toBe(t.p);
    expect(header[KERNEL_LAYOUT.directoryWord + 2]).toBe(first);
  });

  it('rejects wrong lengths, chunk counts, dimensions and views into the header with RangeError', () => {
    const t = primeAt(0);
    const small = new Uint32Array(N - 1);
    const poly = new Uint32Array(2 * N);
    const out = new Uint32Array(N);
    const cases: (() => void)[] = [
      () => {
        wasm.nttForward(small, t);
      },
      () => {
        wasm.nttInverse(new Uint32Array(N + 1), t);
      },
      () => {
        wasm.intt128(new Uint32Array(64), t);
      },
      () => {
        wasm.mulAdd(out, out, small, out, t);
      },
      () => {
        wasm.foldDot(poly, poly, 3, t, out);
      },
      () => {
        wasm.foldDot(poly, poly, 0, t, out);
      },
      () => {
        wasm.foldDot(poly, poly, 128, t, out);
      },
      () => {
        wasm.macMont(poly, poly, 65, t, out);
      },
      () => {
        wasm.macMont(poly, poly, 1.5, t, out);
      },
      () => {
        wasm.macMont2(poly, poly, poly, poly, 33, t, out);
      },
      () => {
        wasm.foldAccumulate(new Uint32Array(127), out, out, t, out);
      },
      () => {
        wasm.dotF32(new Float32Array(12), new Float32Array(6), 6, 2, new Float32Array(2));
      },
      () => {
        wasm.dotF32(new Float32Array(8), new Float32Array(4), 4, 3, new Float32Array(3));
      },
      () => {
        wasm.allocU32(-1);
      },
      () => {
        wasm.viewU32(0, 4);
      },
      () => {
        wasm.nttForward(new Uint32Array(wasm.memory.buffer, 0, N), t);
      },
      () => {
        wasm.ensureTables({ ...t, n: 2048 });
      },
      () => {
        wasm.blockAccumulate(poly, poly, 0, 3, out, t);
      },
      () => {
        wasm.blockAccumulate(poly, poly, 0, 0, out, t);
      },
      () => {
        wasm.blockAccumulate(poly, poly, N, 2, new Uint32Array(GROUPS - 1), t);
      },
      () => {
        wasm.blockAccumulate(poly, poly, -1, 1, out, t);
      },
      () => {
        wasm.ternaryFromBytes(new Uint8Array(8), new Int32Array(4), 5);
      },
      () => {
        wasm.cbdFromBytes(new Uint8Array(8 * 4), 33, new Int32Array(4));
      },
      () => {
        wasm.cbdFromBytes(new Uint8Array(8 * 4), 0, new Int32Array(4));
      },
      () => {
        wasm.cbdFromBytes(new Uint8Array(8 * 4 - 1), 21, new Int32Array(4));
      },
      () => {
        wasm.smallToResidues(new Int32Array(N - 1), t, out);
      },
    ];
    for (const [i, run] of cases.entries()) expect(run, `case ${i}`).toThrow(RangeError);
  });
});

describe('module build and loading', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('the generator reproduces the committed module, layout and WAT exactly', async () => {
    const url = new URL('../scripts/build-kernels.mjs', import.meta.url).href;
    const generator: unknown = await import(url);
    if (typeof generator !== 'object' || generator === null || !('buildKernels' in generator)) {
      throw new Error('build-kernels.mjs does not export buildKernels');
    }
    const build = generator.buildKernels as () => Promise<{ wat: string; wasm: Uint8Array; source: string }>;
    const built = await build();
    expect(Buffer.from(built.wasm).toString('base64')).toBe(KERNELS_WASM_BASE64);
    const here = (file: string): string =>
      readFileSync(new URL(`../src/wasm/${file}`, import.meta.url), 'utf8');
    expect(built.source).toBe(here('kernels-wasm.ts'));
    expect(built.wat).toBe(here('kernels.wat'));
  });

  it('compiles the module once per process', () => {
    expect(compileKernelModule()).toBe(compileKernelModule());
    expect(wasm.module).toBe(compileKernelModule());
  });

  it('throws WASM_UNAVAILABLE where WebAssembly is missing', () => {
    vi.stubGlobal('WebAssembly', undefined);
    let code = 'NO_ERROR';
    try {
      createWasmKernels();
    } catch (err: unknown) {
      code = err instanceof CryptoError ? err.code : 'OTHER';
    }
    expect(code).toBe('WASM_UNAVAILABLE');
  });
});
