import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { CryptoError } from '../src/errors.js';
import { createJsKernels } from '../src/kernels/js-kernels.js';
import type { Kernels } from '../src/kernels/types.js';
import { PARAM_SETS } from '../src/params.js';
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
