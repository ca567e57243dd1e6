import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';

import { CryptoError } from '../errors.js';
import { assertBytes, encodeId } from './record-keys.js';

/**
 * AES-256-GCM sealing of a record's metadata blob under its record key K_r (record-keys.ts).
 *
 * Sealed format, version 1:
 *
 *   [0]            format version (0x01)
 *   [1 .. 13)      12-byte random nonce
 *   [13 .. n-16)   ciphertext (same length as the plaintext)
 *   [n-16 .. n)    16-byte GCM tag
 *
 * AAD (never stored; rebuilt by both sides):
 *
 *   u8 format version ‖ u32be len ‖ "rune/record-seal" ‖ u32be len ‖ UTF-8(index id)
 *   ‖ u32be len ‖ UTF-8(record id) ‖ u32be key version
 *
 * Every variable-length field is length-prefixed, so distinct (index id, record id, key version)
 * triples never share an AAD. SECURITY INVARIANT: a sealed record moved to another index, another
 * record id or another key version fails to open.
 *
 * Errors: a key that is not exactly 32 bytes, a bad id, a key version outside u32, a plaintext over
 * MAX_RECORD_PLAINTEXT_BYTES, and a sealed input that is too short, too long or of an unknown
 * version all throw CryptoError MALFORMED_INPUT (never RangeError: keys arrive over the wire from
 * the Vault). A wrong key, wrong AAD or any modified byte throws DECRYPTION_FAILED. A blob truncated
 * past the header is indistinguishable from a shorter record and so fails as DECRYPTION_FAILED.
 *
 * Random 96-bit nonces: each K_r seals only the few versions of one record, far below the 2^32
 * messages per key at which random GCM nonces become a concern.
 */

export const RECORD_SEAL_VERSION = 1;
export const RECORD_KEY_LENGTH = 32;
export const RECORD_SEAL_NONCE_BYTES = 12;
export const RECORD_SEAL_TAG_BYTES = 16;
/** Bytes a sealed record adds to its plaintext: version + nonce + tag. */
export const RECORD_SEAL_OVERHEAD = 1 + RECORD_SEAL_NONCE_BYTES + RECORD_SEAL_TAG_BYTES;
/** Largest plaintext that can be sealed: 1 MiB. Record metadata is small; this bounds memory per request. */
export const MAX_RECORD_PLAINTEXT_BYTES = 1 << 20;
/** Largest sealed record accepted by openRecord. */
export const MAX_SEALED_RECORD_BYTES = MAX_RECORD_PLAINTEXT_BYTES + RECORD_SEAL_OVERHEAD;

const AAD_LABEL = new TextEncoder().encode('rune/record-seal');
const MAX_KEY_VERSION = 0xffffffff;

export interface SealRecordInput {
  /** The record key K_r, exactly 32 bytes. */
  readonly key: Uint8Array;
  readonly indexId: string;
  readonly recordId: string;
  /** Version of the key that sealed the record, an integer in [0, 2^32). */
  readonly keyVersion: number;
  readonly plaintext: Uint8Array;
}

export interface OpenRecordInput {
  readonly key: Uint8Array;
  readonly indexId: string;
  readonly recordId: string;
  readonly keyVersion: number;
  readonly sealed: Uint8Array;
}

/** Seals a record: returns [version][nonce][ciphertext][tag] under a fresh random nonce. */
export function sealRecord(input: SealRecordInput): Uint8Array {
  const { key, plaintext } = input;
  assertBytes(key, RECORD_KEY_LENGTH, 'record key');
  if (!(plaintext instanceof Uint8Array)) {
    throw new CryptoError('MALFORMED_INPUT', 'record plaintext must be a Uint8Array');
  }
  if (plaintext.length > MAX_RECORD_PLAINTEXT_BYTES) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `record plaintext is ${plaintext.length} bytes; at most ${MAX_RECORD_PLAINTEXT_BYTES} can be sealed`,
    );
  }
  const aad = recordSealAad(RECORD_SEAL_VERSION, input.indexId, input.recordId, input.keyVersion);
  const nonce = randomFillSync(new Uint8Array(RECORD_SEAL_NONCE_BYTES));

  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: RECORD_SEAL_TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const tail = cipher.final();
  const tag = cipher.getAuthTag();

  const out = new Uint8Array(RECORD_SEAL_OVERHEAD + plaintext.length);
  out[0] = RECORD_SEAL_VERSION;
  out.set(nonce, 1);
  out.set(body, 1 + RECORD_SEAL_NONCE_BYTES);
  out.set(tail, 1 + RECORD_SEAL_NONCE_BYTES + body.length);
  out.set(tag, out.length - RECORD_SEAL_TAG_BYTES);
  return out;
}

/**
 * Opens a sealed record. SECURITY INVARIANT: no plaintext byte is returned unless the GCM tag
 * verifies over the ciphertext and the AAD; on failure the partial plaintext is zeroed.
 */
export function openRecord(input: OpenRecordInput): Uint8Array {
  const { key, sealed } = input;
  assertBytes(key, RECORD_KEY_LENGTH, 'record key');
  if (!(sealed instanceof Uint8Array)) {
    throw new CryptoError('MALFORMED_INPUT', 'sealed record must be a Uint8Array');
  }
  if (sealed.length < RECORD_SEAL_OVERHEAD) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `sealed record is ${sealed.length} bytes, shorter than the ${RECORD_SEAL_OVERHEAD}-byte minimum: it is truncated`,
    );
  }
  if (sealed.length > MAX_SEALED_RECORD_BYTES) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `sealed record is ${sealed.length} bytes; at most ${MAX_SEALED_RECORD_BYTES} are accepted`,
    );
  }
  const version = sealed[0];
  if (version !== RECORD_SEAL_VERSION) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `sealed record has unknown format version ${version ?? 'none'}; this build reads version ${RECORD_SEAL_VERSION}`,
    );
  }
  const aad = recordSealAad(version, input.indexId, input.recordId, input.keyVersion);
  const nonce = sealed.subarray(1, 1 + RECORD_SEAL_NONCE_BYTES);
  const ciphertext = sealed.subarray(1 + RECORD_SEAL_NONCE_BYTES, sealed.length - RECORD_SEAL_TAG_BYTES);
  const tag = sealed.subarray(sealed.length - RECORD_SEAL_TAG_BYTES);

  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: RECORD_SEAL_TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const body = decipher.update(ciphertext);
  let tail: Buffer;
  try {
    tail = decipher.final();
  } catch (err: unknown) {
    body.fill(0);
    throw new CryptoError(
      'DECRYPTION_FAILED',
      'sealed record failed authentication: wrong record key, wrong index id / record id / key version, or the record was modified',
      { cause: err },
    );
  }
  const out = new Uint8Array(body.length + tail.length);
  out.set(body, 0);
  out.set(tail, body.length);
  body.fill(0);
  return out;
}

/** The AAD of a sealed record (see the format comment above). Exported for tests and documentation. */
export function recordSealAad(
  version: number,
  indexId: string,
  recordId: string,
  keyVersion: number,
): Uint8Array {
  if (!Number.isInteger(keyVersion) || keyVersion < 0 || keyVersion > MAX_KEY_VERSION) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `key version must be an integer in [0, 2^32), got ${keyVersion}`,
    );
  }
  const index = encodeId(indexId, 'index id');
  const record = encodeId(recordId, 'record id');
  const aad = new Uint8Array(1 + 4 + AAD_LABEL.length + 4 + index.length + 4 + record.length + 4);
  const view = new DataView(aad.buffer);
  let pos = 0;
  aad[pos++] = version;
  for (const field of [AAD_LABEL, index, record]) {
    view.setUint32(pos, field.length);
    pos += 4;
    aad.set(field, pos);
    pos += field.length;
  }
  view.setUint32(pos, keyVersion);
  return aad;
}
