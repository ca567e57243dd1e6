/**
 * The one error type of the Vault core. Callers branch on `code`, never on message text.
 *
 * SECURITY: for UNAUTHENTICATED and FORBIDDEN the `message` is fixed ("unauthenticated" /
 * "forbidden") and is all a client may learn; the precise `reason` (unknown, revoked, expired
 * token, missing capability …) is for the audit log and server logs only. Edges must send
 * `code` + `message` and never `reason`.
 */
export const VaultErrorCode = {
  /** No valid credential: unknown, malformed, revoked, rotated-away or expired token or invitation. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** The member's role lacks the capability for this action. */
  FORBIDDEN: 'FORBIDDEN',
  /** The member's token bucket is empty; `retryAfterMs` says when one request is allowed again. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** A member, invitation or role that does not exist. */
  NOT_FOUND: 'NOT_FOUND',
  /** The request clashes with current state: duplicate email or role name, role in use, revoked member. */
  CONFLICT: 'CONFLICT',
  /** A malformed argument: bad name, email, role definition, expiry or top-k. */
  INVALID_REQUEST: 'INVALID_REQUEST',
  /** The audit log's hash chain does not verify; the Vault refuses to append to it. */
  AUDIT_CHAIN_BROKEN: 'AUDIT_CHAIN_BROKEN',
  /** The persisted state file is unreadable or malformed; it is never silently reset. */
  STATE_CORRUPT: 'STATE_CORRUPT',
  /** Writing or syncing the state file or the audit log failed (disk full, permissions). */
  STORAGE_FAILED: 'STORAGE_FAILED',
  /** The sealed key set (or a backup) does not open with this passphrase: wrong KEK, or the file was modified. */
  KEYS_LOCKED: 'KEYS_LOCKED',
  /** The sealed key set (or a backup) is truncated, not a key set, or holds malformed entries; never regenerated. */
  KEYSET_CORRUPT: 'KEYSET_CORRUPT',
  /** No usable key-encryption key: no source or two sources, unreadable, empty, or a KEK file others can access. */
  KEK_INVALID: 'KEK_INVALID',
  /** A passphrase (KEK or backup) fails the passphrase policy; the message says how to fix it. */
  WEAK_PASSPHRASE: 'WEAK_PASSPHRASE',
  /** A published public key or Vault signing key differs from the one pinned in the member's config. */
  KEY_PIN_MISMATCH: 'KEY_PIN_MISMATCH',
  /** A published key record is malformed, its signature does not verify, or its key does not parse. */
  PUBLISHED_KEY_INVALID: 'PUBLISHED_KEY_INVALID',
  /** A recall asked for more results than the member's role allows; refused, never clamped silently. */
  TOP_K_ABOVE_CAP: 'TOP_K_ABOVE_CAP',
  /** A search ticket this Vault process did not issue to this member, or one that no longer verifies. */
  TICKET_INVALID: 'TICKET_INVALID',
  /** A search ticket presented a second time; a ticket's scores are decrypted at most once. */
  TICKET_REPLAYED: 'TICKET_REPLAYED',
  /** A search result that is forged, not signed by a trusted index, reshaped or not bound to its ticket. */
  RESULT_REJECTED: 'RESULT_REJECTED',
  /** A decrypted score outside [-1.01, 1.01]: tampered scores, or scores made under another key. */
  SCORE_OUT_OF_RANGE: 'SCORE_OUT_OF_RANGE',
  /** A secret canary record did not score as its vector predicts: the index answered dishonestly. */
  CANARY_MISMATCH: 'CANARY_MISMATCH',
  /** Too many outstanding search tickets to remember them all; retry once some expire. */
  OVERLOADED: 'OVERLOADED',
} as const;

export type VaultErrorCode = (typeof VaultErrorCode)[keyof typeof VaultErrorCode];

export interface VaultErrorOptions {
  /** Precise reason for the audit log; never sent to clients. */
  reason?: string;
  /** Member the failed credential belonged to, when known (a revoked or expired token). Never a token. */
  memberId?: string;
  /** For RATE_LIMITED: milliseconds until the next request would be allowed. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class VaultError extends Error {
  override readonly name = 'VaultError';
  readonly code: VaultErrorCode;
  readonly reason: string | undefined;
  readonly memberId: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: VaultErrorCode, message: string, options: VaultErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.reason = options.reason;
    this.memberId = options.memberId;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isVaultError(err: unknown, code?: VaultErrorCode): err is VaultError {
  return err instanceof VaultError && (code === undefined || err.code === code);
}

/** A failed authentication: the client sees only "unauthenticated", the audit log sees `reason`. */
export function unauthenticated(reason: string, memberId?: string): VaultError {
  return new VaultError(VaultErrorCode.UNAUTHENTICATED, 'unauthenticated', {
    reason,
    ...(memberId === undefined ? {} : { memberId }),
  });
}

/** A refused authorisation: the client sees only "forbidden", the audit log sees `reason`. */
export function forbidden(reason: string, memberId?: string): VaultError {
  return new VaultError(VaultErrorCode.FORBIDDEN, 'forbidden', {
    reason,
    ...(memberId === undefined ? {} : { memberId }),
  });
}

export function invalidRequest(message: string): VaultError {
  return new VaultError(VaultErrorCode.INVALID_REQUEST, message, { reason: message });
}
