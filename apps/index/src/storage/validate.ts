import {
  CryptoError,
  HEADER_BYTES,
  ObjectKind,
  assertDimension,
  getParamSet,
  parseEncryptedVector,
  payloadBytes,
  type ParamSet,
} from '@rune/crypto';
import { IndexError } from '../errors.js';
import type { AppendRecordInput, CreateIndexInput, IndexDescriptor } from './index-store.js';

/** Index and record ids: also file names and log fields, so a closed, short alphabet. */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const EMBEDDER_ID_PATTERN = /^[A-Za-z0-9_.:/@+-]{1,128}$/;

export const DEFAULT_MAX_SEALED_BYTES = 256 * 1024;
export const MAX_IDS_PER_FETCH = 1024;

export function assertId(what: 'index' | 'record', id: unknown): asserts id is string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new IndexError('INVALID_INPUT', `${what} id must match [A-Za-z0-9_-]{1,64}`);
  }
}

export function validateCreateIndex(input: CreateIndexInput): ParamSet {
  assertId('index', input.id);
  let params: ParamSet;
  try {
    params = getParamSet(input.paramSetId);
    assertDimension(params, input.dim);
  } catch (err: unknown) {
    if (err instanceof CryptoError) throw new IndexError('INVALID_INPUT', err.message, { cause: err });
    throw err;
  }
  if (input.queryMode !== params.queryMode) {
    throw new IndexError(
      'INVALID_INPUT',
      `parameter set ${params.id} serves ${params.queryMode} queries, not ${input.queryMode}`,
    );
  }
  if (typeof input.embedderId !== 'string' || !EMBEDDER_ID_PATTERN.test(input.embedderId)) {
    throw new IndexError('INVALID_INPUT', 'embedder id must match [A-Za-z0-9_.:/@+-]{1,128}');
  }
  return params;
}

/** Checks shape and sizes of an append; the vector is parsed against the index's set and dim. */
export function validateAppend(
  input: AppendRecordInput,
  index: IndexDescriptor,
  maxSealedBytes: number,
): void {
  assertId('record', input.recordId);
  const params = getParamSet(index.paramSetId);
  if (!Number.isInteger(input.blockId) || input.blockId < 0 || input.blockId > 0xffffffff) {
    throw new IndexError('INVALID_INPUT', 'block id must be an integer in [0, 2^32)');
  }
  if (!Number.isInteger(input.slot) || input.slot < 0 || input.slot >= params.itemsPerBlock) {
    throw new IndexError('INVALID_INPUT', `slot must be an integer in [0, ${params.itemsPerBlock})`);
  }
  if (!(input.sealed instanceof Uint8Array) || input.sealed.length === 0) {
    throw new IndexError('INVALID_INPUT', 'sealed record must be non-empty bytes');
  }
  if (input.sealed.length > maxSealedBytes) {
    throw new IndexError('PAYLOAD_TOO_LARGE', `sealed record exceeds ${maxSealedBytes} bytes`);
  }
  if (!(input.vector instanceof Uint8Array)) {
    throw new IndexError('INVALID_INPUT', 'vector must be bytes');
  }
  const maxVectorBytes = HEADER_BYTES + payloadBytes(ObjectKind.ENCRYPTED_VECTOR, params, index.dim, false);
  if (input.vector.length > maxVectorBytes) {
    throw new IndexError('PAYLOAD_TOO_LARGE', `vector exceeds ${maxVectorBytes} bytes`);
  }
  try {
    // Full parse: a vector that cannot be added to a block must never reach the log.
    parseEncryptedVector(input.vector, { paramSetId: index.paramSetId, dim: index.dim });
  } catch (err: unknown) {
    if (err instanceof CryptoError) {
      throw new IndexError('INVALID_INPUT', `vector refused: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
