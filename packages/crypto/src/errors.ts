/**
 * The one error type of the crypto package. Callers branch on `code`, never on message text.
 * Every code is documented in docs/errors.md.
 */
export const CryptoErrorCode = {
  /** A parameter-set id that this build does not know. */
  UNKNOWN_PARAM_SET: 'UNKNOWN_PARAM_SET',
  /** Two objects (key, ciphertext, block, query) carry different parameter sets or dimensions. */
  PARAM_MISMATCH: 'PARAM_MISMATCH',
  /** A vector or dimension that cannot be encoded (wrong length, not finite, norm too large, unsupported D). */
  INVALID_VECTOR: 'INVALID_VECTOR',
  /** A slot, block or chunk index outside its range. */
  INVALID_INDEX: 'INVALID_INDEX',
  /** A serialised object is malformed: bad magic, unknown kind or version, truncated, oversized, bad field. */
  MALFORMED_INPUT: 'MALFORMED_INPUT',
  /** A decrypted score lies outside [-1.01, 1.01]: the ciphertext was forged, tampered or under another key. */
  SCORE_OUT_OF_RANGE: 'SCORE_OUT_OF_RANGE',
  /** Authenticated decryption failed: wrong key, wrong associated data, or tampered ciphertext. */
  DECRYPTION_FAILED: 'DECRYPTION_FAILED',
  /** A passphrase too weak to protect a key-set export. */
  WEAK_PASSPHRASE: 'WEAK_PASSPHRASE',
  /** The WebAssembly kernels could not be loaded on this runtime. */
  WASM_UNAVAILABLE: 'WASM_UNAVAILABLE',
  /** A scoring worker failed or was terminated. */
  WORKER_FAILED: 'WORKER_FAILED',
} as const;

export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode];

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isCryptoError(err: unknown, code?: CryptoErrorCode): err is CryptoError {
  return err instanceof CryptoError && (code === undefined || err.code === code);
}
