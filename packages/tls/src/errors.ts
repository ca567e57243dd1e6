/**
 * The one error type of the TLS package. Callers branch on `code`, never on message text; the
 * message names the file or address involved and says how to fix it, because it is printed to an
 * operator before the service exits.
 */
export const TlsErrorCode = {
  /** A certificate or key file is missing or cannot be read (permissions, a directory). */
  TLS_FILE_UNREADABLE: 'TLS_FILE_UNREADABLE',
  /** The TLS directory cannot be created, or a file in it cannot be written. */
  TLS_DIR_UNUSABLE: 'TLS_DIR_UNUSABLE',
  /** A file holds no complete, parsable PEM certificate or unencrypted private key. */
  TLS_BAD_PEM: 'TLS_BAD_PEM',
  /** The private key does not belong to the certificate it is paired with. */
  TLS_KEY_MISMATCH: 'TLS_KEY_MISMATCH',
  /** The certificate chain was not issued by the CA file it was given with. */
  TLS_CA_MISMATCH: 'TLS_CA_MISMATCH',
  /** A certificate is outside its validity window (expired, or not yet valid). */
  TLS_CERT_EXPIRED: 'TLS_CERT_EXPIRED',
  /** Plain HTTP was asked for without the explicit flag, or on a non-loopback address. */
  PLAIN_HTTP_REFUSED: 'PLAIN_HTTP_REFUSED',
  /** The server could not bind its address (port in use, address not on this machine). */
  LISTEN_FAILED: 'LISTEN_FAILED',
  /** An option handed in by the caller is invalid: a host name, a validity period. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
} as const;

export type TlsErrorCode = (typeof TlsErrorCode)[keyof typeof TlsErrorCode];

export class TlsError extends Error {
  override readonly name = 'TlsError';
  readonly code: TlsErrorCode;

  constructor(code: TlsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isTlsError(err: unknown, code?: TlsErrorCode): err is TlsError {
  return err instanceof TlsError && (code === undefined || err.code === code);
}
