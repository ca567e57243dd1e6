import { CryptoError } from '../errors.js';
import { getParamSet } from '../params.js';
import type { Block } from '../types.js';
import { HEADER_BYTES, allocateWithHeader, headerFor, readHeader, type ParseExpectation } from './header.js';
import type { SerializeOptions } from './options.js';
import { copyBytes } from './pack.js';
import { readResidues, writeResidues } from './residue-payload.js';
import { ObjectKind } from './shape.js';

/**
 * Throws MALFORMED_INPUT unless `bitmap` is exactly ceil(slots/8) bytes with no bit set at or beyond
 * `slots` (slot s is bit s mod 8 of byte s/8), so the popcount can never exceed the slot count.
 */
export function assertOccupancyBitmap(bitmap: Uint8Array, slots: number): void {
  const expectedBytes = Math.ceil(slots / 8);
  if (bitmap.length !== expectedBytes) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `occupancy bitmap is ${bitmap.length} bytes, expected ${expectedBytes}`,
    );
  }
  const spareBits = expectedBytes * 8 - slots;
  if (spareBits > 0 && (bitmap[expectedBytes - 1] ?? 0) >>> (8 - spareBits) !== 0) {
    throw new CryptoError('MALFORMED_INPUT', `occupancy bit set beyond slot ${slots - 1}`);
  }
}

/**
 * Header (with block id) + occupancy bitmap (itemsPerBlock bits, 16 B) + [prime][poly][chunks·n]
 * residues in block layout. Packed (the default), a 384-d block at set 1 is 24 + 16 + 638,976 B.
 */
export function serializeBlock(block: Block, options: SerializeOptions = {}): Uint8Array {
  const params = getParamSet(block.paramSetId);
  const header = headerFor(ObjectKind.BLOCK, params, block.dim, block.blockId, options.packed ?? true);
  assertOccupancyBitmap(block.occupied, params.itemsPerBlock);
  const out = allocateWithHeader(header);
  out.set(block.occupied, HEADER_BYTES);
  writeResidues(header, block.data, out, HEADER_BYTES + block.occupied.length);
  return out;
}

export function parseBlock(bytes: Uint8Array, expected?: ParseExpectation): Block {
  const header = readHeader(bytes, ObjectKind.BLOCK, expected);
  const bitmapBytes = Math.ceil(header.slots / 8);
  const occupied = copyBytes(bytes, HEADER_BYTES, bitmapBytes);
  assertOccupancyBitmap(occupied, header.slots);
  return {
    paramSetId: header.params.id,
    dim: header.dim,
    blockId: header.blockId,
    occupied,
    data: readResidues(header, bytes, HEADER_BYTES + bitmapBytes),
  };
}
