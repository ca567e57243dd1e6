/**
 * The one error type of the client. `code` is either one of the client's own codes below or, for a
 * refusal a service answered with, that service's code unchanged (UNAUTHENTICATED, RATE_LIMITED,
 * TOP_K_ABOVE_CAP, INDEX_NOT_FOUND …; see `service`). Callers branch on `code`, never on message
 * text; `hint` says how to recover, for the CLI's stderr and the MCP server's isError results.
 */
export const RuneClientErrorCode = {
  /** No member config at the path. */
  CONFIG_NOT_FOUND: 'CONFIG_NOT_FOUND',
  /** The member config is not JSON, or not readable as a file. */
  CONFIG_CORRUPT: 'CONFIG_CORRUPT',
  /** The member config is JSON but a field is missing or malformed. */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** Writing the member config failed (permissions, disk full). */
  CONFIG_WRITE_FAILED: 'CONFIG_WRITE_FAILED',
  /** No connection to the Vault: refused, DNS, reset, or a proxy that cannot reach it. */
  VAULT_UNREACHABLE: 'VAULT_UNREACHABLE',
  /** No connection to the index. */
  INDEX_UNREACHABLE: 'INDEX_UNREACHABLE',
  /** The Vault did not answer within the timeout. */
  VAULT_TIMEOUT: 'VAULT_TIMEOUT',
  /** The index did not answer within the timeout. */
  INDEX_TIMEOUT: 'INDEX_TIMEOUT',
  /** The server's TLS certificate does not verify against the trusted CAs (or `caCert`). */
  TLS_UNTRUSTED: 'TLS_UNTRUSTED',
  /** A response larger than the client accepts. */
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  /** The Vault answered something that is not what the protocol says (shape, signature, binding). */
  VAULT_RESPONSE_INVALID: 'VAULT_RESPONSE_INVALID',
  /** The index answered something that is not what the protocol says. */
  INDEX_RESPONSE_INVALID: 'INDEX_RESPONSE_INVALID',
  /** The Vault's published public key differs from the pinned one: possible key substitution. */
  KEY_PIN_MISMATCH: 'KEY_PIN_MISMATCH',
  /** The published key record is malformed or its signature does not verify. */
  PUBLISHED_KEY_INVALID: 'PUBLISHED_KEY_INVALID',
  /** The embedder differs from the one the member config (and so the index) names. */
  EMBEDDER_MISMATCH: 'EMBEDDER_MISMATCH',
  /** The config names an embedder this client cannot build without help. */
  EMBEDDER_UNAVAILABLE: 'EMBEDDER_UNAVAILABLE',
  /** The index's insert receipt does not verify or does not match what was uploaded. */
  RECEIPT_INVALID: 'RECEIPT_INVALID',
  /** A sealed record failed authentication: modified, moved, or sealed under another key. */
  RECORD_TAMPERED: 'RECORD_TAMPERED',
  /** A record opened (it is authentic) but is not a record layout this client reads. */
  RECORD_UNREADABLE: 'RECORD_UNREADABLE',
  /** A caller's argument is malformed: vector length or norm, k, record id, empty text. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
} as const;
export type RuneClientErrorCode = (typeof RuneClientErrorCode)[keyof typeof RuneClientErrorCode];

export type ServiceName = 'vault' | 'index';

export interface RuneClientErrorOptions {
  /** HTTP status of a service's refusal; absent for local and network failures. */
  readonly status?: number;
  readonly service?: ServiceName;
  readonly hint?: string;
  /** From Retry-After, for RATE_LIMITED. */
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}

export class RuneClientError extends Error {
  override readonly name = 'RuneClientError';
  /** A RuneClientErrorCode, or a service's own code passed through. */
  readonly code: string;
  readonly status: number | undefined;
  readonly service: ServiceName | undefined;
  readonly hint: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: string, message: string, options: RuneClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.service = options.service;
    this.hint = options.hint;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isRuneClientError(err: unknown, code?: string): err is RuneClientError {
  return err instanceof RuneClientError && (code === undefined || err.code === code);
}

export function invalidArgument(message: string, cause?: unknown): RuneClientError {
  return new RuneClientError(RuneClientErrorCode.INVALID_ARGUMENT, message, {
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The string `code` of an error (errno, or another package's stable code), if any. */
export function codeOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return undefined;
}
