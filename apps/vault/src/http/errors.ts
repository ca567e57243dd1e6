import type { ServerResponse } from 'node:http';
import { isProtocolError } from '@rune/protocol';
import { VaultError, VaultErrorCode, isVaultError } from '../errors.js';

/** Errors only the HTTP edge raises (routing, body size); kept apart from VaultErrorCode. */
export const HttpErrorCode = {
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  INTERNAL: 'INTERNAL',
} as const;
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

const STATUS_OF: Record<VaultErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_REQUEST: 400,
  TOP_K_ABOVE_CAP: 403,
  TICKET_INVALID: 400,
  TICKET_REPLAYED: 409,
  RESULT_REJECTED: 422,
  SCORE_OUT_OF_RANGE: 422,
  CANARY_MISMATCH: 422,
  OVERLOADED: 503,
  KEYS_LOCKED: 503,
  AUDIT_CHAIN_BROKEN: 500,
  STATE_CORRUPT: 500,
  STORAGE_FAILED: 500,
  KEYSET_CORRUPT: 500,
  KEK_INVALID: 500,
  WEAK_PASSPHRASE: 400,
  KEY_PIN_MISMATCH: 400,
  PUBLISHED_KEY_INVALID: 400,
};

export interface MappedError {
  readonly status: number;
  readonly body: { error: { code: string; message: string } };
  readonly headers: Readonly<Record<string, string>>;
}

/** Fixed so a crash never leaks a stack, a path or a secret. */
export const INTERNAL_ERROR_BODY = { error: { code: HttpErrorCode.INTERNAL, message: 'internal error' } };

/**
 * The one place an error becomes an HTTP response.
 * SECURITY: `reason` never leaves; 401/403 messages are fixed; server-side failures get the fixed body.
 */
export function mapError(err: unknown): MappedError {
  if (err instanceof HttpError) {
    return {
      status: err.status,
      body: { error: { code: err.code, message: err.message } },
      headers: err.headers,
    };
  }
  if (isVaultError(err)) return mapVaultError(err);
  if (isProtocolError(err)) {
    return {
      status: 400,
      body: { error: { code: VaultErrorCode.INVALID_REQUEST, message: err.message } },
      headers: {},
    };
  }
  return { status: 500, body: INTERNAL_ERROR_BODY, headers: {} };
}

function mapVaultError(err: VaultError): MappedError {
  const status = STATUS_OF[err.code];
  if (status >= 500 && err.code !== VaultErrorCode.OVERLOADED && err.code !== VaultErrorCode.KEYS_LOCKED) {
    return { status, body: INTERNAL_ERROR_BODY, headers: {} };
  }
  const message =
    err.code === VaultErrorCode.UNAUTHENTICATED
      ? 'unauthenticated'
      : err.code === VaultErrorCode.FORBIDDEN
        ? 'forbidden'
        : err.message;
  const headers: Record<string, string> = {};
  if (err.code === VaultErrorCode.RATE_LIMITED) {
    headers['retry-after'] = String(Math.max(1, Math.ceil((err.retryAfterMs ?? 1000) / 1000)));
  }
  return { status, body: { error: { code: err.code, message } }, headers };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}
