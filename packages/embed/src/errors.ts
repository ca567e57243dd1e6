/** The one error type of the embedders. Callers branch on `code`, never on message text. */
export const EmbedErrorCode = {
  /** The text has nothing to embed: empty, only punctuation, or only stopwords. */
  EMBED_EMPTY_TEXT: 'EMBED_EMPTY_TEXT',
  /** An embedder option is out of range (dimension). */
  EMBED_INVALID_OPTIONS: 'EMBED_INVALID_OPTIONS',
  /** An embedding holds a non-finite coordinate or is the zero vector, so it cannot be normalised. */
  EMBED_INVALID_VECTOR: 'EMBED_INVALID_VECTOR',
} as const;
export type EmbedErrorCode = (typeof EmbedErrorCode)[keyof typeof EmbedErrorCode];

export class EmbedError extends Error {
  override readonly name = 'EmbedError';
  readonly code: EmbedErrorCode;

  constructor(code: EmbedErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isEmbedError(err: unknown, code?: EmbedErrorCode): err is EmbedError {
  return err instanceof EmbedError && (code === undefined || err.code === code);
}
