import type { Engine } from './engine.js';
import { CryptoError } from './errors.js';
import type { Kernels } from './kernels/types.js';
import { assertSameParams } from './keys.js';
import { blockWords, regionOffset, regionWords } from './layout.js';
import { chunkCount, getParamSet, type ParamSet } from './params.js';
import { primeTables } from './tables.js';
import type { Block, EncryptedVector } from './types.js';

/** Per kernels: a row buffer in kernel memory for the slot's shift multipliers (no copy per call). */
const rowScratch = new WeakMap<Kernels, Uint32Array>();

/** An empty block; its data lives in the engine's kernel memory so scoring needs no copy. */
export function createBlock(engine: Engine, paramSetId: number, dim: number, blockId: number): Block {
  const params = getParamSet(paramSetId);
  const chunks = chunkCount(params, dim);
  if (!Number.isInteger(blockId) || blockId < 0 || blockId > 0xffffffff) {
    throw new CryptoError('INVALID_INDEX', `block id ${blockId} must be an integer in [0, 2^32)`);
  }
  const data = engine.kernels.allocU32(blockWords(params.primes.length, chunks, params.n));
  return {
    paramSetId,
    dim,
    blockId,
    occupied: new Uint8Array(params.itemsPerBlock / 8),
    data,
  };
}

export function isSlotOccupied(block: Block, slot: number): boolean {
  return (((block.occupied[slot >>> 3] ?? 0) >>> (slot & 7)) & 1) === 1;
}

export function occupiedCount(block: Block): number {
  let count = 0;
  for (const byte of block.occupied) for (let b = byte; b !== 0; b &= b - 1) count++;
  return count;
}

/** First free slot, or -1 when the block is full. */
export function firstFreeSlot(block: Block): number {
  const params = getParamSet(block.paramSetId);
  for (let slot = 0; slot < params.itemsPerBlock; slot++) if (!isSlotOccupied(block, slot)) return slot;
  return -1;
}

/**
 * Add an encrypted vector (chunks at offset 0) into `slot` of the block: each chunk ciphertext is
 * multiplied by NTT(X^(32·slot)) and summed in. Needs no key: the index does this on ciphertexts only.
 * Fastest when the block was made by `createBlock` on the same engine (its data is in kernel memory).
 */
export function addToBlock(engine: Engine, block: Block, vector: EncryptedVector, slot: number): void {
  const params = checkCompatible(block, vector, slot);
  if (isSlotOccupied(block, slot)) {
    throw new CryptoError('INVALID_INDEX', `slot ${slot} of block ${block.blockId} is already occupied`);
  }
  accumulate(engine.kernels, params, block, vector, slot, 1);
  block.occupied[slot >>> 3] = (block.occupied[slot >>> 3] ?? 0) | (1 << (slot & 7));
}

/**
 * Cancel a vector's contribution (delete): subtract the same shifted ciphertext that was added.
 * The caller must pass the exact ciphertext that was inserted in that slot.
 */
export function subtractFromBlock(engine: Engine, block: Block, vector: EncryptedVector, slot: number): void {
  const params = checkCompatible(block, vector, slot);
  if (!isSlotOccupied(block, slot)) {
    throw new CryptoError('INVALID_INDEX', `slot ${slot} of block ${block.blockId} is empty`);
  }
  accumulate(engine.kernels, params, block, vector, slot, -1);
  block.occupied[slot >>> 3] = (block.occupied[slot >>> 3] ?? 0) & ~(1 << (slot & 7));
}

function checkCompatible(block: Block, vector: EncryptedVector, slot: number): ParamSet {
  assertSameParams(block.paramSetId, vector.paramSetId, 'encrypted vector');
  const params = getParamSet(block.paramSetId);
  if (vector.dim !== block.dim) {
    throw new CryptoError(
      'PARAM_MISMATCH',
      `vector dimension ${vector.dim} differs from block dimension ${block.dim}`,
    );
  }
  if (!Number.isInteger(slot) || slot < 0 || slot >= params.itemsPerBlock) {
    throw new CryptoError('INVALID_INDEX', `slot ${slot} outside [0, ${params.itemsPerBlock})`);
  }
  return params;
}

function accumulate(
  kernels: Kernels,
  params: ParamSet,
  block: Block,
  vector: EncryptedVector,
  slot: number,
  sign: 1 | -1,
): void {
  const n = params.n;
  const primes = params.primes.length;
  const chunks = chunkCount(params, block.dim);
  const groups = n / params.chunkSize;
  let row = rowScratch.get(kernels);
  if (row === undefined || row.length !== groups) {
    row = kernels.allocU32(groups);
    rowScratch.set(kernels, row);
  }
  const words = regionWords(chunks, n);
  for (let i = 0; i < primes; i++) {
    const t = primeTables(params, i);
    const p = t.p;
    // NTT(X^(32·slot)) is constant on each group of 32 slots; negate it for a subtraction.
    const shift = t.shift.subarray(slot * groups, (slot + 1) * groups);
    if (sign === 1) row.set(shift);
    else for (let g = 0; g < groups; g++) row[g] = (p - (shift[g] ?? 0)) % p;
    for (let poly = 0; poly < 2; poly++) {
      const o = regionOffset(i, poly, chunks, n);
      // Chunk j's polynomial of this prime and poly is at ((j·primes + i)·2 + poly)·n in the vector.
      kernels.blockAccumulate(
        block.data.subarray(o, o + words),
        vector.data.subarray((i * 2 + poly) * n),
        primes * 2 * n,
        chunks,
        row,
        t,
      );
    }
  }
}
