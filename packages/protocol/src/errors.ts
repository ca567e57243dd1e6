/**
 * The one error type of the protocol package. Callers branch on `code`, never on message text.
 * Edges map these to "unauthenticated" / "forbidden" / 400 and keep the reason for the audit log.
 */
export const ProtocolErrorCode = {
  /** Input from the wire does not match its schema: shape, bounds, base64url, canonical JSON. */
  MALFORMED_REQUEST: 'MALFORMED_REQUEST',
  /** A value handed in by the caller (not the wire) is invalid: a payload to sign, a guard option. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The Ed25519 signature does not verify over the domain-separated message. */
  SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  /** A well-formed envelope of another message kind was presented. */
  WRONG_KIND: 'WRONG_KIND',
  /** The envelope names a signing key that the verifier does not trust. */
  KEY_MISMATCH: 'KEY_MISMATCH',
  /** The message's validity window ended (beyond the allowed clock skew). */
  EXPIRED: 'EXPIRED',
  /** The message's validity window has not started (beyond the allowed clock skew). */
  NOT_YET_VALID: 'NOT_YET_VALID',
  /** A single-use id (ticket id, permit nonce) was presented a second time. */
  REPLAYED: 'REPLAYED',
  /** The replay guard holds its full capacity of unexpired ids; it refuses rather than forget early. */
  REPLAY_GUARD_FULL: 'REPLAY_GUARD_FULL',
  /** The query bytes the index received are not the ones the ticket authorised. */
  QUERY_MISMATCH: 'QUERY_MISMATCH',
  /** A search result is bound to another ticket, index or epoch, or a block's bytes do not match its hash. */
  RESULT_MISMATCH: 'RESULT_MISMATCH',
  /** A search result does not have the shape the ticket fixed (block count, block ids). */
  RESULT_SHAPE_MISMATCH: 'RESULT_SHAPE_MISMATCH',
} as const;

export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isProtocolError(err: unknown, code?: ProtocolErrorCode): err is ProtocolError {
  return err instanceof ProtocolError && (code === undefined || err.code === code);
}
