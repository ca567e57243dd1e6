import { createHash } from 'node:crypto';
import { encodeBase64url } from './base64url.js';
import { ProtocolError } from './errors.js';

export const SHA256_BYTES = 32;
/** SHA-256 digests travel as unpadded base64url: 43 characters. */
export const SHA256_B64URL_LENGTH = 43;

/** Largest query the index accepts (an encrypted query at D = 1024 with three primes is far below). */
export const MAX_QUERY_BYTES = 8 * 1024 * 1024;

/** SHA-256 of `bytes`, as unpadded base64url. */
export function hashBytes(bytes: Uint8Array): string {
  return encodeBase64url(createHash('sha256').update(bytes).digest());
}

/**
 * The query hash a search ticket carries: SHA-256 of the exact serialised query bytes the index
 * will receive (plaintext or encrypted query), so a ticket authorises one query and no other.
 */
export function hashQuery(queryBytes: Uint8Array): string {
  if (queryBytes.byteLength === 0 || queryBytes.byteLength > MAX_QUERY_BYTES) {
    throw new ProtocolError(
      'INVALID_ARGUMENT',
      `query must be 1..${MAX_QUERY_BYTES} bytes, got ${queryBytes.byteLength}`,
    );
  }
  return hashBytes(queryBytes);
}
