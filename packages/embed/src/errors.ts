/** The one error type of the embedders. Callers branch on `code`, never on message text. */
export const EmbedErrorCode = {
  /** The text has nothing to embed: empty, only punctuation, or only stopwords. */
  EMBED_EMPTY_TEXT: 'EMBED_EMPTY_TEXT',
  /** An embedder option is out of range (dimension). */
  EMBED_INVALID_OPTIONS: 'EMBED_INVALID_OPTIONS',
  /** An embedding holds a non-finite coordinate or is the zero vector, so it cannot be normalised. */
  EMBED_INVALID_VECTOR: 'EMBED_INVALID_VECTOR',
  /** A model is not in its folder and may not be downloaded (offline, or downloads not allowed). */
  EMBED_MODEL_MISSING: 'EMBED_MODEL_MISSING',
  /** Downloading a model failed: no network, the host refused, or the model does not exist there. */
  EMBED_DOWNLOAD_FAILED: 'EMBED_DOWNLOAD_FAILED',
  /** A model's files are present but unusable: corrupt ONNX, wrong outputs, unreadable config. */
  EMBED_MODEL_INVALID: 'EMBED_MODEL_INVALID',
  /** A model or endpoint returns vectors of another dimension than expected (or than before). */
  EMBED_DIM_MISMATCH: 'EMBED_DIM_MISMATCH',
  /** No connection to an embeddings endpoint: refused, DNS, reset. */
  EMBED_ENDPOINT_UNREACHABLE: 'EMBED_ENDPOINT_UNREACHABLE',
  /** An embeddings endpoint did not answer within the timeout. */
  EMBED_ENDPOINT_TIMEOUT: 'EMBED_ENDPOINT_TIMEOUT',
  /** An embeddings endpoint answered with an HTTP error status. */
  EMBED_ENDPOINT_ERROR: 'EMBED_ENDPOINT_ERROR',
  /** An embeddings endpoint answered 2xx with something that is not an embeddings response. */
  EMBED_ENDPOINT_RESPONSE_INVALID: 'EMBED_ENDPOINT_RESPONSE_INVALID',
} as const;
export type EmbedErrorCode = (typeof EmbedErrorCode)[keyof typeof EmbedErrorCode];

export class EmbedError extends Error {
  override readonly name = 'EmbedError';
  readonly code: EmbedErrorCode;
  /** How to recover, for the CLI's stderr and the MCP server's isError results. */
  readonly hint: string | undefined;

  constructor(code: EmbedErrorCode, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options?.hint;
  }
}

export function isEmbedError(err: unknown, code?: EmbedErrorCode): err is EmbedError {
  return err instanceof EmbedError && (code === undefined || err.code === code);
}
