/** "fetch failed" says nothing; its cause names the real reason (ECONNREFUSED, ENOTFOUND, a reset). */
export function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause: unknown = err.cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    return typeof code === 'string' ? `${err.message} (${code})` : `${err.message} (${cause.message})`;
  }
  return err.message;
}
