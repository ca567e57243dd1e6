import type { IncomingMessage } from 'node:http';
import { decodeBase64url, parseStrictJson } from '@rune/protocol';
import { HttpError } from './errors.js';

/** Bytes discarded after a limit is hit so the client can read the 413; past this the socket is cut. */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024;

/**
 * Reads a JSON body of at most `limitBytes`. The limit is checked on Content-Length and on the bytes
 * received, before anything is parsed, so an oversized request changes nothing.
 */
export async function readJsonBody(
  req: IncomingMessage,
  limitBytes: number,
): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/json\b/i.test(type)) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the body must be application/json');
  }
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  const tooLarge = (): HttpError =>
    new HttpError(413, 'PAYLOAD_TOO_LARGE', `the body exceeds ${limitBytes} bytes for this route`);
  if (Number.isFinite(declared) && declared > limitBytes) {
    await drain(req);
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      await drain(req);
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new HttpError(400, 'MALFORMED_REQUEST', 'the body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = parseStrictJson(text);
  } catch (err: unknown) {
    throw new HttpError(400, 'MALFORMED_REQUEST', err instanceof Error ? err.message : 'invalid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'MALFORMED_REQUEST', 'the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

async function drain(req: IncomingMessage): Promise<void> {
  let seen = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      seen += chunk.length;
      if (seen > MAX_DRAIN_BYTES) {
        req.destroy();
        return;
      }
    }
  } catch {
    // The client went away; the 413 is best effort.
  }
}

/** Refuses fields other than `allowed`, so a typo is an error rather than silently ignored. */
export function requireKeys(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw new HttpError(400, 'MALFORMED_REQUEST', `unknown field ${key}`);
  }
  for (const key of allowed) {
    if (!(key in body)) throw new HttpError(400, 'MALFORMED_REQUEST', `missing field ${key}`);
  }
}

export function stringField(body: Record<string, unknown>, key: string, maxLength = 256): string {
  const value = body[key];
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new HttpError(
      400,
      'MALFORMED_REQUEST',
      `${key} must be a non-empty string of at most ${maxLength} chars`,
    );
  }
  return value;
}

export function intField(body: Record<string, unknown>, key: string): number {
  const value = body[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new HttpError(400, 'MALFORMED_REQUEST', `${key} must be a non-negative integer`);
  }
  return value;
}

export function bytesField(body: Record<string, unknown>, key: string): Uint8Array {
  const value = body[key];
  if (typeof value !== 'string') throw new HttpError(400, 'MALFORMED_REQUEST', `${key} must be base64url`);
  try {
    return decodeBase64url(value, key);
  } catch {
    throw new HttpError(400, 'MALFORMED_REQUEST', `${key} must be unpadded canonical base64url`);
  }
}

/** Envelopes are checked by the core; here only that one is an object. */
export function objectField(body: Record<string, unknown>, key: string): object {
  const value = body[key];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'MALFORMED_REQUEST', `${key} must be a signed envelope object`);
  }
  return value;
}

export function stringListField(body: Record<string, unknown>, key: string, maxItems: number): string[] {
  const value = body[key];
  if (!Array.isArray(value) || value.length > maxItems || !value.every((v) => typeof v === 'string')) {
    throw new HttpError(400, 'MALFORMED_REQUEST', `${key} must be a list of at most ${maxItems} strings`);
  }
  return value;
}
