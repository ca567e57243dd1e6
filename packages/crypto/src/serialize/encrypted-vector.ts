import { getParamSet } from '../params.js';
import type { EncryptedVector } from '../types.js';
import { HEADER_BYTES, allocateWithHeader, headerFor, readHeader, type ParseExpectation } from './header.js';
import type { SerializeOptions } from './options.js';
import { readResidues, writeResidues } from './residue-payload.js';
import { ObjectKind } from './shape.js';

type VectorKind = typeof ObjectKind.ENCRYPTED_VECTOR | typeof ObjectKind.ENCRYPTED_QUERY;

function serializeAs(kind: VectorKind, vector: EncryptedVector, options: SerializeOptions): Uint8Array {
  const header = headerFor(kind, getParamSet(vector.paramSetId), vector.dim, 0, options.packed ?? true);
  const out = allocateWithHeader(header);
  writeResidues(header, vector.data, out, HEADER_BYTES);
  return out;
}

function parseAs(
  kind: VectorKind,
  bytes: Uint8Array,
  expected: Pick<ParseExpectation, 'paramSetId' | 'dim'> | undefined,
): EncryptedVector {
  const header = readHeader(bytes, kind, expected);
  return { paramSetId: header.params.id, dim: header.dim, data: readResidues(header, bytes, HEADER_BYTES) };
}

/**
 * A stored vector's upload: header + [chunk][prime][poly][n] residues. Packed (the default), one 384-d
 * vector at set 1 is 24 + 12 × 53,248 = 639,000 B.
 */
export function serializeEncryptedVector(
  vector: EncryptedVector,
  options: SerializeOptions = {},
): Uint8Array {
  return serializeAs(ObjectKind.ENCRYPTED_VECTOR, vector, options);
}

/** Parses a stored vector; an encrypted query (or any other kind) is PARAM_MISMATCH. */
export function parseEncryptedVector(
  bytes: Uint8Array,
  expected?: Pick<ParseExpectation, 'paramSetId' | 'dim'>,
): EncryptedVector {
  return parseAs(ObjectKind.ENCRYPTED_VECTOR, bytes, expected);
}

/**
 * An encrypted query: the same layout under its own kind, so a query can never be stored as a vector.
 * Only parameter sets in encrypted-query mode accept it (PARAM_MISMATCH otherwise).
 */
export function serializeEncryptedQuery(query: EncryptedVector, options: SerializeOptions = {}): Uint8Array {
  return serializeAs(ObjectKind.ENCRYPTED_QUERY, query, options);
}

/** Parses an encrypted query; a stored vector (or any other kind) is PARAM_MISMATCH. */
export function parseEncryptedQuery(
  bytes: Uint8Array,
  expected?: Pick<ParseExpectation, 'paramSetId' | 'dim'>,
): EncryptedVector {
  return parseAs(ObjectKind.ENCRYPTED_QUERY, bytes, expected);
}
