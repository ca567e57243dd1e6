import { decodeBase64url } from '@rune/protocol';
import { invalidRequest } from '../errors.js';

/** Route-level validation helpers: a plain object with exactly the allowed keys. */
export function objectWith(
  value: unknown,
  required: readonly string[],
  optional: readonly string[] = [],
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidRequest('body must be a JSON object');
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!required.includes(key) && !optional.includes(key)) throw invalidRequest(`unexpected field "${key}"`);
  }
  for (const key of required) {
    if (!(key in record)) throw invalidRequest(`missing field "${key}"`);
  }
  return record;
}

export function str(record: Record<string, unknown>, key: string, maxLength = 256): string {
  const v = record[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > maxLength) {
    throw invalidRequest(`"${key}" must be a non-empty string of at most ${maxLength} characters`);
  }
  return v;
}

export function optStr(record: Record<string, unknown>, key: string): string | undefined {
  return record[key] === undefined ? undefined : str(record, key);
}

export function int(record: Record<string, unknown>, key: string, min: number, max: number): number {
  const v = record[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw invalidRequest(`"${key}" must be an integer in [${min}, ${max}]`);
  }
  return v;
}

export function optInt(
  record: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
): number | undefined {
  return record[key] === undefined ? undefined : int(record, key, min, max);
}

export function bytes(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string') throw invalidRequest(`"${what}" must be a base64url string`);
  try {
    return decodeBase64url(value, what);
  } catch {
    throw invalidRequest(`"${what}" is not canonical unpadded base64url`);
  }
}
