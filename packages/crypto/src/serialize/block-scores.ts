import { getParamSet } from '../params.js';
import type { BlockScores } from '../types.js';
import { HEADER_BYTES, allocateWithHeader, headerFor, readHeader, type ParseExpectation } from './header.js';
import type { SerializeOptions } from './options.js';
import { readResidues, writeResidues } from './residue-payload.js';
import { ObjectKind } from './shape.js';

/**
 * Header (with block id) + per prime [y0: n/32][r1: n] (plaintext-query sets) or [y0][r1][r2]
 * (encrypted-query sets); the length follows from the set alone, see blockScoreWordsPerPrime.
 */
export function serializeBlockScores(scores: BlockScores, options: SerializeOptions = {}): Uint8Array {
  const header = headerFor(
    ObjectKind.BLOCK_SCORES,
    getParamSet(scores.paramSetId),
    0,
    scores.blockId,
    options.packed ?? true,
  );
  const out = allocateWithHeader(header);
  writeResidues(header, scores.data, out, HEADER_BYTES);
  return out;
}

export function parseBlockScores(
  bytes: Uint8Array,
  expected?: Pick<ParseExpectation, 'paramSetId' | 'blockId'>,
): BlockScores {
  const header = readHeader(bytes, ObjectKind.BLOCK_SCORES, expected);
  return {
    paramSetId: header.params.id,
    blockId: header.blockId,
    data: readResidues(header, bytes, HEADER_BYTES),
  };
}
