import { getParamSet } from '../params.js';
import type { PublicKey } from '../types.js';
import { HEADER_BYTES, allocateWithHeader, headerFor, readHeader, type ParseExpectation } from './header.js';
import type { SerializeOptions } from './options.js';
import { readResidues, writeResidues } from './residue-payload.js';
import { ObjectKind } from './shape.js';

/** Header + [prime][poly 0..1][n] residues (53,248 B packed at set 1). */
export function serializePublicKey(key: PublicKey, options: SerializeOptions = {}): Uint8Array {
  const header = headerFor(ObjectKind.PUBLIC_KEY, getParamSet(key.paramSetId), 0, 0, options.packed ?? true);
  const out = allocateWithHeader(header);
  writeResidues(header, key.data, out, HEADER_BYTES);
  return out;
}

export function parsePublicKey(
  bytes: Uint8Array,
  expected?: Pick<ParseExpectation, 'paramSetId'>,
): PublicKey {
  const header = readHeader(bytes, ObjectKind.PUBLIC_KEY, expected);
  return { paramSetId: header.params.id, data: readResidues(header, bytes, HEADER_BYTES) };
}
