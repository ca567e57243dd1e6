/** Exit codes of every rune command (docs/errors.md). */
export const ExitCode = {
  OK: 0,
  /** The command ran and failed: unreachable service, refused request, bad data on disk. */
  FAILURE: 1,
  /** The command line itself is wrong; nothing was done. */
  USAGE: 2,
} as const;

/** A failure the user can act on: message says what went wrong, hint says how to fix it. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  readonly code: string;
  readonly hint: string | undefined;

  constructor(
    code: string,
    message: string,
    options: { hint?: string; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.FAILURE;
  }
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError('USAGE', message, {
    exitCode: ExitCode.USAGE,
    ...(hint === undefined ? {} : { hint }),
  });
}
