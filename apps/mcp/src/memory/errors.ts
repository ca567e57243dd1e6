import { isRuneClientError } from '@rune/client';
import { isEmbedError } from '@rune/embed';

/**
 * Codes the memory layer adds to the client's and the services' own (docs/errors.md, "MCP
 * server"). Every failure reaching an agent carries one, a message and a recovery hint.
 */
export const MemoryErrorCode = {
  /** No usable member config: missing, not JSON, or a field is wrong. */
  NOT_CONFIGURED: 'NOT_CONFIGURED',
  /** A tool argument failed its schema, or is inconsistent (an unparseable date). */
  INVALID_INPUT: 'INVALID_INPUT',
  /** topk above the member's role cap, as the Vault said. */
  TOP_K_ABOVE_CAP: 'TOP_K_ABOVE_CAP',
  /** The local capture log cannot be read or written. */
  HISTORY_UNAVAILABLE: 'HISTORY_UNAVAILABLE',
  /** Anything unexpected; details go to stderr. */
  INTERNAL: 'INTERNAL',
} as const;
export type MemoryErrorCode = (typeof MemoryErrorCode)[keyof typeof MemoryErrorCode];

export class MemoryError extends Error {
  override readonly name = 'MemoryError';
  readonly code: string;
  readonly hint: string;

  constructor(code: string, message: string, hint: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.code = code;
    this.hint = hint;
  }
}

/** What an agent is told about a failure: stable code, what happened, how to recover. */
export interface Failure {
  readonly code: string;
  readonly message: string;
  readonly hint: string;
}

const FALLBACK_HINTS: Readonly<Record<string, string>> = {
  VAULT_UNREACHABLE:
    'check that the Vault is running and vaultUrl in the member config is right; run the status tool',
  INDEX_UNREACHABLE:
    'check that the index is running and indexUrl in the member config is right; run the status tool',
  VAULT_TIMEOUT: 'the Vault is slow or stuck; retry, then run the status tool',
  INDEX_TIMEOUT: 'the index is slow or stuck; retry, then run the status tool',
  FORBIDDEN:
    "the Vault refused: only the record's author or an admin may forget it, and a reader may not capture",
};

/** Maps any error to what the agent sees; the client's hints are kept, unknown errors get a fixed text. */
export function describeFailure(err: unknown): Failure {
  if (err instanceof MemoryError) return { code: err.code, message: err.message, hint: err.hint };
  if (isRuneClientError(err)) {
    return {
      code: err.code,
      message: err.message,
      hint: err.hint ?? FALLBACK_HINTS[err.code] ?? 'run the status tool to see what is wrong',
    };
  }
  if (isEmbedError(err)) {
    return {
      code: err.code,
      message: err.message,
      hint: 'write a self-contained sentence or paragraph with real words (not only symbols or stopwords)',
    };
  }
  return {
    code: MemoryErrorCode.INTERNAL,
    message: 'rune mcp failed unexpectedly; the details are in its log (stderr)',
    hint: 'retry once; if it fails again run the status tool and report the log to your Vault admin',
  };
}
