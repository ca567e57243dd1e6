import { CryptoError } from './errors.js';
import { createJsKernels } from './kernels/js-kernels.js';
import type { Kernels } from './kernels/types.js';
import { systemRandom, type RandomSource } from './random.js';
import { createWasmKernels } from './wasm/wasm-kernels.js';

export type KernelChoice = 'auto' | 'wasm' | 'js';

/**
 * What every engine operation needs: the kernels (WASM SIMD, or the JS reference) and the randomness
 * source. One engine per process is the norm; its WASM memory holds blocks, tables and scratch.
 */
export interface Engine {
  readonly kernels: Kernels;
  readonly random: RandomSource;
}

export function createEngine(options: { kernels?: KernelChoice; random?: RandomSource } = {}): Engine {
  const choice = options.kernels ?? 'auto';
  return Object.freeze({
    kernels: selectKernels(choice),
    random: options.random ?? systemRandom,
  });
}

function selectKernels(choice: KernelChoice): Kernels {
  if (choice === 'js') return createJsKernels();
  try {
    return createWasmKernels();
  } catch (err: unknown) {
    if (choice === 'wasm') {
      throw err instanceof CryptoError
        ? err
        : new CryptoError('WASM_UNAVAILABLE', 'WebAssembly SIMD kernels could not be loaded', { cause: err });
    }
    // 'auto': the JS reference computes the same results, only slower.
    return createJsKernels();
  }
}
