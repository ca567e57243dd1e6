import { createHash, randomInt } from 'node:crypto';
import type { Engine } from '../src/engine.js';
import { createJsKernels } from '../src/kernels/js-kernels.js';
import { createWasmKernels, type WasmKernels } from '../src/wasm/wasm-kernels.js';
import { deterministicRandom, systemRandom, type RandomSource } from '../src/random.js';

export type KernelKind = 'js' | 'wasm';

export const KERNEL_KINDS: readonly KernelKind[] = ['js', 'wasm'];

let wasm: WasmKernels | undefined;

/** One WASM kernel instance per test file: its memory only grows, so tests share it. */
function sharedWasmKernels(): WasmKernels {
  wasm ??= createWasmKernels();
  return wasm;
}

export function testEngine(kind: KernelKind, random: RandomSource = systemRandom): Engine {
  return { kernels: kind === 'js' ? createJsKernels() : sharedWasmKernels(), random };
}

export function seededEngine(kind: KernelKind, seed: string): Engine {
  return testEngine(kind, deterministicRandom(seed));
}

/** Deterministic pseudo-random unit vectors (Gaussian via Box–Muller over a seeded stream). */
export function randomUnitVectors(count: number, dim: number, seed: string): Float32Array {
  const rng = deterministicRandom(seed);
  const bytes = new Uint8Array(count * dim * 8);
  rng.fill(bytes);
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(count * dim);
  for (let v = 0; v < count; v++) {
    let sq = 0;
    for (let d = 0; d < dim; d++) {
      const o = (v * dim + d) * 8;
      const u1 = (view.getUint32(o, true) + 1) / 4294967297;
      const u2 = view.getUint32(o + 4, true) / 4294967296;
      const g = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      out[v * dim + d] = g;
      sq += g * g;
    }
    const inv = 1 / Math.sqrt(sq);
    for (let d = 0; d < dim; d++) out[v * dim + d] = (out[v * dim + d] ?? 0) * inv;
  }
  // Renormalise in float32 so that norms stay ≤ 1 after rounding.
  return out;
}

export function dotF64(
  a: ArrayLike<number>,
  aOff: number,
  b: ArrayLike<number>,
  bOff: number,
  dim: number,
): number {
  let s = 0;
  for (let d = 0; d < dim; d++) s += (a[aOff + d] ?? 0) * (b[bOff + d] ?? 0);
  return s;
}

export function randomResidues(n: number, p: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = randomInt(p);
  return out;
}

export function sha256Hex(data: ArrayBufferView): string {
  return createHash('sha256')
    .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    .digest('hex');
}
