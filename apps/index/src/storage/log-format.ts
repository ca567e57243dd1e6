import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * One log entry (little-endian), see apps/index/README.md:
 *
 *   0  magic "RNL1"  4 B
 *   4  kind          u8
 *   5  length        u32  payload bytes
 *   9  checksum      16 B HMAC-SHA-256(salt, segment ‖ offset ‖ kind ‖ length ‖ payload), truncated
 *  25  payload
 *
 * The checksum is keyed by the index's secret salt and bound to the entry's position, so bytes a
 * client smuggles inside a sealed record can never pass as an entry, and an entry is valid only where
 * it was written.
 */
export const ENTRY_MAGIC = Object.freeze([0x52, 0x4e, 0x4c, 0x31]); // "RNL1"
export const ENTRY_HEADER_BYTES = 25;
export const CHECKSUM_BYTES = 16;
/** Digests kept in memory to re-verify each read field (truncated SHA-256). */
export const DIGEST_BYTES = 16;

export const EntryKind = { RECORD: 1, TOMBSTONE: 2 } as const;
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

export function isEntryKind(value: number): value is EntryKind {
  return value === EntryKind.RECORD || value === EntryKind.TOMBSTONE;
}

export function entryChecksum(
  salt: Uint8Array,
  segment: number,
  offset: number,
  kind: number,
  payload: Uint8Array,
): Buffer {
  const position = Buffer.alloc(17);
  position.writeUInt32LE(segment, 0);
  position.writeBigUInt64LE(BigInt(offset), 4);
  position.writeUInt8(kind, 12);
  position.writeUInt32LE(payload.length, 13);
  return createHmac('sha256', salt).update(position).update(payload).digest().subarray(0, CHECKSUM_BYTES);
}

export function encodeEntry(
  salt: Uint8Array,
  segment: number,
  offset: number,
  kind: EntryKind,
  payload: Uint8Array,
): Buffer {
  const out = Buffer.alloc(ENTRY_HEADER_BYTES + payload.length);
  out.set(ENTRY_MAGIC, 0);
  out.writeUInt8(kind, 4);
  out.writeUInt32LE(payload.length, 5);
  entryChecksum(salt, segment, offset, kind, payload).copy(out, 9);
  out.set(payload, ENTRY_HEADER_BYTES);
  return out;
}

export interface EntryHeader {
  readonly kind: number;
  readonly length: number;
  readonly checksum: Buffer;
}

/** The header at `bytes[0..25)`, or undefined when the magic is wrong. */
export function readEntryHeader(bytes: Buffer): EntryHeader | undefined {
  if (bytes.length < ENTRY_HEADER_BYTES) return undefined;
  for (let i = 0; i < ENTRY_MAGIC.length; i++) if (bytes[i] !== ENTRY_MAGIC[i]) return undefined;
  return { kind: bytes.readUInt8(4), length: bytes.readUInt32LE(5), checksum: bytes.subarray(9, 25) };
}

export function checksumMatches(expected: Uint8Array, actual: Uint8Array): boolean {
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export function digestOf(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest().subarray(0, DIGEST_BYTES);
}

/** A record payload: idLen u8 ‖ id ‖ blockId u32 ‖ slot u8 ‖ sealedLen u32 ‖ sealed ‖ vectorLen u32 ‖ vector. */
export interface RecordPayload {
  readonly recordId: string;
  readonly blockId: number;
  readonly slot: number;
  /** Byte ranges inside the payload. */
  readonly sealedOffset: number;
  readonly sealedLength: number;
  readonly vectorOffset: number;
  readonly vectorLength: number;
}

export function encodeRecordPayload(
  recordId: string,
  blockId: number,
  slot: number,
  sealed: Uint8Array,
  vector: Uint8Array,
): Buffer {
  const id = Buffer.from(recordId, 'ascii');
  const out = Buffer.alloc(1 + id.length + 4 + 1 + 4 + sealed.length + 4 + vector.length);
  let o = out.writeUInt8(id.length, 0);
  o += id.copy(out, o);
  o = out.writeUInt32LE(blockId, o);
  o = out.writeUInt8(slot, o);
  o = out.writeUInt32LE(sealed.length, o);
  out.set(sealed, o);
  o = out.writeUInt32LE(vector.length, o + sealed.length);
  out.set(vector, o);
  return out;
}

/** Parses a checksum-verified record payload; undefined if its inner lengths are inconsistent. */
export function decodeRecordPayload(payload: Buffer): RecordPayload | undefined {
  if (payload.length < 1) return undefined;
  const idLength = payload.readUInt8(0);
  let o = 1 + idLength;
  if (payload.length < o + 13) return undefined;
  const recordId = payload.toString('ascii', 1, o);
  const blockId = payload.readUInt32LE(o);
  const slot = payload.readUInt8(o + 4);
  const sealedLength = payload.readUInt32LE(o + 5);
  const sealedOffset = o + 9;
  o = sealedOffset + sealedLength;
  if (payload.length < o + 4) return undefined;
  const vectorLength = payload.readUInt32LE(o);
  const vectorOffset = o + 4;
  if (payload.length !== vectorOffset + vectorLength) return undefined;
  return { recordId, blockId, slot, sealedOffset, sealedLength, vectorOffset, vectorLength };
}

export function encodeTombstonePayload(recordId: string): Buffer {
  const id = Buffer.from(recordId, 'ascii');
  const out = Buffer.alloc(1 + id.length);
  out.writeUInt8(id.length, 0);
  id.copy(out, 1);
  return out;
}

export function decodeTombstonePayload(payload: Buffer): string | undefined {
  if (payload.length < 1 || payload.length !== 1 + payload.readUInt8(0)) return undefined;
  return payload.toString('ascii', 1);
}
