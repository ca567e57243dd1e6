import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from './cli-error.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
}

/** node:util parseArgs, strict, with errors turned into usage errors that name the command. */
export function parse(command: string, argv: readonly string[], options: OptionSpec): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
    return { values, positionals };
  } catch (err: unknown) {
    throw usageError(
      `${command}: ${err instanceof Error ? err.message : String(err)}`,
      `run "rune ${command} --help"`,
    );
  }
}

export function stringOpt(parsed: Parsed, name: string): string | undefined {
  const v = parsed.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requiredOpt(parsed: Parsed, command: string, name: string): string {
  const v = stringOpt(parsed, name);
  if (v === undefined || v.length === 0) throw usageError(`${command}: --${name} is required`);
  return v;
}

export function flag(parsed: Parsed, name: string): boolean {
  return parsed.values[name] === true;
}

export function listOpt(parsed: Parsed, name: string): string[] {
  const v = parsed.values[name];
  if (Array.isArray(v)) return v;
  return typeof v === 'string' ? [v] : [];
}

/** A TCP port: an integer from `min` (0 = any free port) to 65535. */
export function portOpt(parsed: Parsed, command: string, name: string, fallback: number, min = 0): number {
  const raw = stringOpt(parsed, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > 65_535) {
    throw usageError(`${command}: --${name} must be a port number from ${min} to 65535, got "${raw}"`);
  }
  return n;
}

export function intOpt(
  parsed: Parsed,
  command: string,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = stringOpt(parsed, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw usageError(`${command}: --${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}
