/** One line of a diagnosis: what was checked, how it went, and how to fix it when it did not. */
export interface Check {
  /** Stable id: config.found, vault.dns, vault.tcp, vault.tls, vault.token, clock.skew … */
  readonly id: string;
  readonly status: 'ok' | 'warn' | 'fail' | 'skip';
  readonly message: string;
  /** Stable error code of a failure (docs/errors.md). */
  readonly code?: string;
  readonly fix?: string;
  readonly ms?: number;
}

export function ok(id: string, message: string, ms?: number): Check {
  return { id, status: 'ok', message, ...(ms === undefined ? {} : { ms: Math.round(ms) }) };
}

export function fail(id: string, code: string, message: string, fix: string): Check {
  return { id, status: 'fail', code, message, fix };
}

export function warn(id: string, code: string, message: string, fix: string): Check {
  return { id, status: 'warn', code, message, fix };
}

export function skip(id: string, message: string): Check {
  return { id, status: 'skip', message };
}

export function hasFailure(checks: readonly Check[]): boolean {
  return checks.some((c) => c.status === 'fail');
}
