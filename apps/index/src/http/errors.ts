import { ProtocolError } from '@rune/protocol';
import { IndexError, type IndexErrorCode } from '../errors.js';

/** Errors only the HTTP edge raises (routing, bodies, operator auth); everything else is an IndexError. */
export const HttpErrorCode = {
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  MALFORMED_REQUEST: 'MALFORMED_REQUEST',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
} as const;
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Bounded label values of `index_refusals_total`. */
export const RefusalReason = {
  SIGNATURE: 'signature',
  REPLAY: 'replay',
  SHAPE: 'shape',
  INPUT: 'input',
} as const;
export type RefusalReason = (typeof RefusalReason)[keyof typeof RefusalReason];

export interface MappedError {
  readonly status: number;
  readonly body: { readonly error: { readonly code: string; readonly message: string } };
  readonly refusal?: RefusalReason;
  readonly isStorageError: boolean;
}

const STATUS_BY_CODE: Readonly<Record<IndexErrorCode, number>> = {
  INVALID_INPUT: 400,
  PAYLOAD_TOO_LARGE: 413,
  INDEX_NOT_FOUND: 404,
  INDEX_EXISTS: 409,
  DUPLICATE_RECORD: 409,
  SLOT_OCCUPIED: 409,
  RECORD_NOT_FOUND: 404,
  STORAGE_CORRUPT: 503,
  STORAGE_FAILED: 503,
  STORE_CLOSED: 503,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  REPLAYED: 409,
  SHAPE_MISMATCH: 409,
  OVERLOADED: 503,
  SERVICE_CLOSED: 503,
};

const REFUSAL_BY_CODE: Partial<Record<IndexErrorCode, RefusalReason>> = {
  UNAUTHENTICATED: 'signature',
  FORBIDDEN: 'signature',
  REPLAYED: 'replay',
  SHAPE_MISMATCH: 'shape',
  INVALID_INPUT: 'input',
  PAYLOAD_TOO_LARGE: 'input',
};

/** The fixed body of every unexpected failure: its details go to the log, never to the client. */
export const INTERNAL_ERROR_BODY = {
  error: { code: 'INTERNAL', message: 'internal error' },
} as const;

/** The one place an error becomes an HTTP status and body. */
export function mapError(err: unknown): MappedError {
  if (err instanceof IndexError) {
    // SECURITY: auth failures say only the code; the protocol reason stays in err.cause for the log.
    const message =
      err.code === 'UNAUTHENTICATED'
        ? 'unauthenticated'
        : err.code === 'FORBIDDEN'
          ? 'forbidden'
          : err.message;
    const refusal = REFUSAL_BY_CODE[err.code];
    return {
      status: STATUS_BY_CODE[err.code],
      body: { error: { code: err.code, message } },
      ...(refusal === undefined ? {} : { refusal }),
      isStorageError: err.code === 'STORAGE_FAILED' || err.code === 'STORAGE_CORRUPT',
    };
  }
  if (err instanceof HttpError) {
    const refusal: RefusalReason | undefined =
      err.code === 'MALFORMED_REQUEST' ||
      err.code === 'PAYLOAD_TOO_LARGE' ||
      err.code === 'UNSUPPORTED_MEDIA_TYPE'
        ? 'input'
        : undefined;
    return {
      status: err.status,
      body: { error: { code: err.code, message: err.message } },
      ...(refusal === undefined ? {} : { refusal }),
      isStorageError: false,
    };
  }
  // A ProtocolError escaping the core is a malformed argument (bad base64url, bad query bytes).
  if (err instanceof ProtocolError) {
    return {
      status: 400,
      body: { error: { code: 'INVALID_INPUT', message: err.message } },
      refusal: 'input',
      isStorageError: false,
    };
  }
  return { status: 500, body: INTERNAL_ERROR_BODY, isStorageError: false };
}
