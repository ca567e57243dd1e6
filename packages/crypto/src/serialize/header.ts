import { CryptoError } from '../errors.js';
import { QueryMode, getParamSet, type ParamSet } from '../params.js';
import {
  HEADER_BYTES,
  ObjectKind,
  assertKindDimension,
  hasBlockId,
  hasDimension,
  hasResidues,
  isObjectKind,
  kindName,
  maxSerializedBytes,
  payloadBytes,
} from './shape.js';

/**
 * The fixed 24-byte header in front of every serialised engine object (little-endian):
 *
 *   0  magic "RUNE"      4 B      12 block id     u32 (0 where not applicable)
 *   4  kind              u8       16 chunk count  u16 (dim / chunkSize, 0 where not applicable)
 *   5  format version    u8       18 slot count   u16 (itemsPerBlock for blocks and scores, else 0)
 *   6  flags             u8       20 payload len  u32 (bytes after the header, exact)
 *   7  reserved          u8 = 0
 *   8  parameter set id  u16
 *  10  dimension         u16 (0 where not applicable)
 *
 * Every field but the block id follows from kind, set and dimension, so the reader accepts one header
 * per object shape and rejects any other value.
 */
export { HEADER_BYTES } from './shape.js';

export const MAGIC = Object.freeze([0x52, 0x55, 0x4e, 0x45]); // "RUNE"
export const FORMAT_VERSION = 1;

export const HeaderFlag = {
  /** Residues are bit-packed at ceil(log2 p) bits (26) instead of u32 words. */
  PACKED: 0x01,
} as const;

export const HeaderOffset = {
  MAGIC: 0,
  KIND: 4,
  VERSION: 5,
  FLAGS: 6,
  RESERVED: 7,
  PARAM_SET_ID: 8,
  DIM: 10,
  BLOCK_ID: 12,
  CHUNKS: 16,
  SLOTS: 18,
  PAYLOAD_BYTES: 20,
} as const;

export interface Header {
  readonly kind: ObjectKind;
  readonly isPacked: boolean;
  readonly params: ParamSet;
  readonly dim: number;
  readonly blockId: number;
  readonly chunks: number;
  readonly slots: number;
  readonly payloadBytes: number;
}

/** What a caller knows about the object it is about to parse; any difference is PARAM_MISMATCH. */
export interface ParseExpectation {
  readonly paramSetId?: number;
  readonly dim?: number;
  readonly blockId?: number;
}

const MAX_U32 = 0xffffffff;

function malformed(message: string): CryptoError {
  return new CryptoError('MALFORMED_INPUT', message);
}

/**
 * The header of a valid object of `kind`. Validates the shape (dimension, block id range, query mode)
 * so that serialisers fail before writing anything.
 */
export function headerFor(
  kind: ObjectKind,
  params: ParamSet,
  dim: number,
  blockId: number,
  isPacked: boolean,
): Header {
  assertKindDimension(kind, params, dim, 'INVALID_VECTOR');
  if (
    !Number.isInteger(blockId) ||
    blockId < 0 ||
    blockId > MAX_U32 ||
    (!hasBlockId(kind) && blockId !== 0)
  ) {
    throw new CryptoError('INVALID_INDEX', `block id ${blockId} is not a u32`);
  }
  if (kind === ObjectKind.ENCRYPTED_QUERY && params.queryMode !== QueryMode.ENCRYPTED) {
    throw new CryptoError('PARAM_MISMATCH', `${params.name} takes plaintext queries, not encrypted ones`);
  }
  const packed = isPacked && hasResidues(kind);
  return {
    kind,
    isPacked: packed,
    params,
    dim,
    blockId,
    chunks: hasDimension(kind) ? dim / params.chunkSize : 0,
    slots: hasBlockId(kind) ? params.itemsPerBlock : 0,
    payloadBytes: payloadBytes(kind, params, dim, packed),
  };
}

/** A zeroed buffer of header + payload with the header written. */
export function allocateWithHeader(header: Header): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + header.payloadBytes);
  out.set(MAGIC, HeaderOffset.MAGIC);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint8(HeaderOffset.KIND, header.kind);
  view.setUint8(HeaderOffset.VERSION, FORMAT_VERSION);
  view.setUint8(HeaderOffset.FLAGS, header.isPacked ? HeaderFlag.PACKED : 0);
  view.setUint8(HeaderOffset.RESERVED, 0);
  view.setUint16(HeaderOffset.PARAM_SET_ID, header.params.id, true);
  view.setUint16(HeaderOffset.DIM, header.dim, true);
  view.setUint32(HeaderOffset.BLOCK_ID, header.blockId, true);
  view.setUint16(HeaderOffset.CHUNKS, header.chunks, true);
  view.setUint16(HeaderOffset.SLOTS, header.slots, true);
  view.setUint32(HeaderOffset.PAYLOAD_BYTES, header.payloadBytes, true);
  return out;
}

/**
 * Reads and fully validates a header (as the kind it declares), then the caller's expectations.
 * MALFORMED_INPUT for anything structurally wrong (size limits, magic, unknown kind or version, flags,
 * reserved byte, dimension, derived fields, payload length, truncation, trailing bytes);
 * UNKNOWN_PARAM_SET for an unknown id; PARAM_MISMATCH for a well-formed object that is not what the
 * caller expected (another kind, set, dimension or block id).
 */
export function readHeader(
  bytes: Uint8Array,
  expectedKind: ObjectKind,
  expected: ParseExpectation = {},
): Header {
  if (!(bytes instanceof Uint8Array)) {
    throw malformed('serialised object must be a Uint8Array');
  }
  if (bytes.length < HEADER_BYTES) {
    throw malformed(`truncated header: ${bytes.length} of ${HEADER_BYTES} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < MAGIC.length; i++) {
    if (view.getUint8(HeaderOffset.MAGIC + i) !== MAGIC[i]) {
      throw malformed('bad magic: not a Rune engine object');
    }
  }
  const kind = view.getUint8(HeaderOffset.KIND);
  if (!isObjectKind(kind)) {
    throw malformed(`unknown object kind ${kind}`);
  }
  // Bounded before any other field is trusted; nothing is allocated until the exact length check.
  const limit = maxSerializedBytes(kind);
  if (bytes.length > limit) {
    throw malformed(`${bytes.length} bytes exceeds the ${limit}-byte limit for a ${kindName(kind)}`);
  }
  const version = view.getUint8(HeaderOffset.VERSION);
  if (version !== FORMAT_VERSION) {
    throw malformed(`unsupported format version ${version}; this build reads version ${FORMAT_VERSION}`);
  }
  const flags = view.getUint8(HeaderOffset.FLAGS);
  const allowedFlags = hasResidues(kind) ? HeaderFlag.PACKED : 0;
  if ((flags & ~allowedFlags) !== 0) {
    throw malformed(`unknown flags 0x${flags.toString(16)} for a ${kindName(kind)}`);
  }
  if (view.getUint8(HeaderOffset.RESERVED) !== 0) {
    throw malformed('reserved header byte is not zero');
  }
  const params = getParamSet(view.getUint16(HeaderOffset.PARAM_SET_ID, true));
  const dim = view.getUint16(HeaderOffset.DIM, true);
  assertKindDimension(kind, params, dim, 'MALFORMED_INPUT');
  const blockId = view.getUint32(HeaderOffset.BLOCK_ID, true);
  if (!hasBlockId(kind) && blockId !== 0) {
    throw malformed(`a ${kindName(kind)} carries no block id`);
  }
  if (kind === ObjectKind.ENCRYPTED_QUERY && params.queryMode !== QueryMode.ENCRYPTED) {
    throw malformed(`an encrypted query under ${params.name}, which takes plaintext queries`);
  }
  const header = headerFor(kind, params, dim, blockId, (flags & HeaderFlag.PACKED) !== 0);
  const chunks = view.getUint16(HeaderOffset.CHUNKS, true);
  if (chunks !== header.chunks) {
    throw malformed(`chunk count ${chunks} does not match ${header.chunks}`);
  }
  const slots = view.getUint16(HeaderOffset.SLOTS, true);
  if (slots !== header.slots) {
    throw malformed(`slot count ${slots} does not match ${header.slots}`);
  }
  const payload = view.getUint32(HeaderOffset.PAYLOAD_BYTES, true);
  if (payload !== header.payloadBytes) {
    throw malformed(
      `payload length ${payload} does not match the ${header.payloadBytes} bytes the header implies`,
    );
  }
  const total = HEADER_BYTES + payload;
  if (bytes.length !== total) {
    throw malformed(
      bytes.length < total
        ? `truncated: ${bytes.length} of ${total} bytes`
        : `${bytes.length - total} trailing bytes after the object`,
    );
  }
  assertExpected(header, expectedKind, expected);
  return header;
}

function assertExpected(header: Header, expectedKind: ObjectKind, expected: ParseExpectation): void {
  if (header.kind !== expectedKind) {
    throw new CryptoError(
      'PARAM_MISMATCH',
      `expected a ${kindName(expectedKind)}, got a ${kindName(header.kind)}`,
    );
  }
  if (expected.paramSetId !== undefined && expected.paramSetId !== header.params.id) {
    throw new CryptoError(
      'PARAM_MISMATCH',
      `expected parameter set ${expected.paramSetId}, got ${header.params.id}`,
    );
  }
  if (expected.dim !== undefined && expected.dim !== header.dim) {
    throw new CryptoError('PARAM_MISMATCH', `expected dimension ${expected.dim}, got ${header.dim}`);
  }
  if (expected.blockId !== undefined && expected.blockId !== header.blockId) {
    throw new CryptoError('PARAM_MISMATCH', `expected block ${expected.blockId}, got ${header.blockId}`);
  }
}
