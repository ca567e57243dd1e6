import { ProtocolError } from './errors.js';

const BASE64URL_RE = /^[A-Za-z0-9_-]*$/;

/** Unpadded base64url (RFC 4648 §5), the only binary encoding on the wire. */
export function encodeBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Length in characters of the unpadded base64url encoding of `byteLength` bytes. */
export function base64urlLength(byteLength: number): number {
  return Math.ceil((byteLength * 4) / 3);
}

/**
 * Strict decoding: Buffer's decoder skips foreign characters and accepts padding, so a garbled
 * string would decode to *something*. Here only the one canonical encoding of a value is accepted
 * (alphabet, no padding, zero trailing bits), so every value has exactly one wire form.
 */
export function decodeBase64url(text: string, what = 'value'): Uint8Array {
  if (!BASE64URL_RE.test(text) || text.length % 4 === 1) {
    throw new ProtocolError('MALFORMED_REQUEST', `${what} is not unpadded base64url`);
  }
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) {
    throw new ProtocolError('MALFORMED_REQUEST', `${what} is not canonical base64url`);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
