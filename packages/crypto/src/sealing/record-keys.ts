import { hkdfSync, randomFillSync } from 'node:crypto';

import { CryptoError } from '../errors.js';

/**
 * Per-record key derivation (DESIGN §1):
 *
 *   K_r = HKDF-SHA256(ikm = team metadata secret, salt = record nonce,
 *                     info = "rune/record/v1" ‖ UTF-8(record id), L = 32)
 *
 * The team metadata secret and every record nonce live only in the Vault. SECURITY INVARIANT:
 * destroying a record's nonce makes K_r underivable, which crypto-shreds that record's sealed
 * metadata without touching any other record. Never derive K_r from anything but the stored
 * random nonce (a nonce recomputable from public data would defeat shredding).
 */

/** Bytes of the team metadata secret (HKDF input keying material). */
export const TEAM_SECRET_BYTES = 32;
/** Bytes of a per-record nonce (HKDF salt). */
export const RECORD_NONCE_BYTES = 32;
/** Bytes of a derived record key (an AES-256 key). */
export const RECORD_KEY_BYTES = 32;
/** Longest index or record id accepted, in UTF-8 bytes. */
export const MAX_ID_BYTES = 256;
/**
 * HKDF info prefix. The record id is the only variable field and comes last, so the plain
 * concatenation is unambiguous. CHANGING THIS STRING (or the encoding) CHANGES EVERY RECORD KEY:
 * bump the version in it and keep the old derivation for old records instead.
 */
export const RECORD_KEY_INFO_PREFIX = 'rune/record/v1';

const encoder = new TextEncoder();

/**
 * UTF-8 bytes of an id after checking its form: a non-empty string of well-formed UTF-16 (a lone
 * surrogate would encode as U+FFFD, so two different ids could share bytes) of at most MAX_ID_BYTES
 * UTF-8 bytes. Shared with record-seal.ts. Throws MALFORMED_INPUT.
 */
export function encodeId(id: unknown, what: string): Uint8Array {
  if (typeof id !== 'string' || id.length === 0) {
    throw new CryptoError('MALFORMED_INPUT', `${what} must be a non-empty string`);
  }
  const bytes = encoder.encode(id);
  if (bytes.length > MAX_ID_BYTES) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `${what} is ${bytes.length} bytes of UTF-8; at most ${MAX_ID_BYTES} are allowed`,
    );
  }
  if (new TextDecoder().decode(bytes) !== id) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `${what} contains a lone UTF-16 surrogate; use well-formed text`,
    );
  }
  return bytes;
}

/** Throws MALFORMED_INPUT unless `value` is a Uint8Array of exactly `length` bytes. */
export function assertBytes(value: unknown, length: number, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoError('MALFORMED_INPUT', `${what} must be a Uint8Array of ${length} bytes`);
  }
  if (value.length !== length) {
    throw new CryptoError('MALFORMED_INPUT', `${what} must be exactly ${length} bytes, got ${value.length}`);
  }
}

/** The HKDF info bytes for a record id: "rune/record/v1" ‖ UTF-8(record id). */
export function recordKeyInfo(recordId: string): Uint8Array {
  const prefix = encoder.encode(RECORD_KEY_INFO_PREFIX);
  const id = encodeId(recordId, 'record id');
  const info = new Uint8Array(prefix.length + id.length);
  info.set(prefix, 0);
  info.set(id, prefix.length);
  return info;
}

/**
 * Derives the 32-byte AES-256 key of one record. Deterministic: the same (secret, nonce, id) always
 * gives the same key. Throws MALFORMED_INPUT on a wrong-length secret or nonce or a bad record id.
 */
export function deriveRecordKey(
  teamSecret: Uint8Array,
  recordNonce: Uint8Array,
  recordId: string,
): Uint8Array {
  assertBytes(teamSecret, TEAM_SECRET_BYTES, 'team metadata secret');
  assertBytes(recordNonce, RECORD_NONCE_BYTES, 'record nonce');
  const info = recordKeyInfo(recordId);
  return new Uint8Array(hkdfSync('sha256', teamSecret, recordNonce, info, RECORD_KEY_BYTES));
}

/** A fresh 32-byte team metadata secret from the OS CSPRNG. */
export function generateTeamSecret(): Uint8Array {
  return randomFillSync(new Uint8Array(TEAM_SECRET_BYTES));
}

/** A fresh 32-byte per-record nonce from the OS CSPRNG (one per record, never reused). */
export function generateRecordNonce(): Uint8Array {
  return randomFillSync(new Uint8Array(RECORD_NONCE_BYTES));
}
