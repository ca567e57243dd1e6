import type { Engine } from './engine.js';
import { CryptoError } from './errors.js';
import { assertSameParams } from './keys.js';
import { blockWords, regionOffset } from './layout.js';
import { chunkCount, getParamSet, type ParamSet } from './params.js';
import { primeTables } from './tables.js';
import type { Block, EncryptedVector } from './types.js';

/** An empty block; its data lives in the engine's kernel memory so scoring needs no copy. */
export function createBlock(engine: Engine, paramSetId: number, dim: number, blockId: number): Block {
  const params = getParamSet(paramSetId);
  const chunks = chunkCount(params, dim);
  if (!Number.isInteger(blockId) || blockId < 0 || blockId > 0xffffffff) {
    throw new CryptoError('INVALID_INDEX', `block id ${blockId} must be an integer in [0, 2^32)`);
  }
  return {
    paramSetId,
    dim,
    blockId,
    occupied: new Uint8Array(params.itemsPerBlock / 8),
    data: engine.kernels.allocU32(blockWords(params.primes.length, chunks, params.n)),
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
 */
export function addToBlock(block: Block, vector: EncryptedVector, slot: number): void {
  const params = checkCompatible(block, vector, slot);
  if (isSlotOccupied(block, slot)) {
    throw new CryptoError('INVALID_INDEX', `slot ${slot} of block ${block.blockId} is already occupied`);
  }
  accumulate(params, block, vector, slot, 1);
  block.occupied[slot >>> 3] = (block.occupied[slot >>> 3] ?? 0) | (1 << (slot & 7));
}

/**
 * Cancel a vector's contribution (delete): subtract the same shifted ciphertext that was added.
 * The caller must pass the exact ciphertext that was inserted in that slot.
 */
export function subtractFromBlock(block: Block, vector: EncryptedVector, slot: number): void {
  const params = checkCompatible(block, vector, slot);
  if (!isSlotOccupied(block, slot)) {
    throw new CryptoError('INVALID_INDEX', `slot ${slot} of block ${block.blockId} is empty`);
  }
  accumulate(params, block, vector, slot, -1);
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
  const data = block.data;
  const src = vector.data;
  for (let i = 0; i < primes; i++) {
    const t = primeTables(params, i);
    const p = t.p;
    for (let poly = 0; poly < 2; poly++) {
      // Walk the block region in storage order: [group g][quad k][chunk j][lane l], slot c = 32g+4k+l.
      let o = regionOffset(i, poly, chunks, n);
      for (let g = 0; g < groups; g++) {
        // NTT(X^(32·slot)) is constant on group g; negate it once for a subtraction.
        const w0 = t.shift[slot * groups + g] ?? 0;
        const w = sign === 1 || w0 === 0 ? w0 : p - w0;
        const wOverP = w / p;
        for (let k = 0; k < 8; k++) {
          for (let j = 0; j < chunks; j++) {
            const base = (j * primes + i) * 2 * n + poly * n + 32 * g + 4 * k;
            for (let l = 0; l < 4; l++) {
              const x = src[base + l] ?? 0;
              // Shoup-style product: the float quotient is within ±1, the int32 remainder is exact.
              let r = (Math.imul(x, w) - Math.imul(Math.floor(x * wOverP), p)) | 0;
              r += (r >> 31) & p;
              r -= p;
              r += (r >> 31) & p;
              const sum = (data[o] ?? 0) + r - p;
              data[o] = sum + ((sum >> 31) & p);
              o++;
            }
          }
        }
      }
    }
  }
}
