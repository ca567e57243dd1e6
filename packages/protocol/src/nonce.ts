import { randomBytes } from 'node:crypto';
import { encodeBase64url } from './base64url.js';
import { NONCE_BYTES } from './messages.js';

/** A fresh ticket id or permit nonce: NONCE_BYTES (128 bits) from the CSPRNG, base64url. */
export function newNonce(random: (size: number) => Uint8Array = randomBytes): string {
  return encodeBase64url(random(NONCE_BYTES));
}
