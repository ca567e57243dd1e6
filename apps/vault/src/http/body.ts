import type { IncomingMessage } from 'node:http';
import { FRAME_CONTENT_TYPE, type FrameLimits, decodeFrame, parseStrictJson } from '@rune/protocol';
import { invalidRequest } from '../errors.js';
import { HttpError, HttpErrorCode } from './errors.js';

export const DEFAULT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;
/**
 * A search result carries every block's encrypted scores (about 37 KB of base64 per 128 records),
 * so /v1/results needs far more room than any other route: 64 MiB covers about 230k records.
 */
export const RESULTS_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

function tooLarge(limitBytes: number): HttpError {
  return new HttpError(413, HttpErrorCode.PAYLOAD_TOO_LARGE, `body exceeds ${limitBytes} bytes`, {
    connection: 'close',
  });
}

/** Rejects on the declared length before reading a byte; the stream check covers chunked bodies. */
export function checkDeclaredLength(req: IncomingMessage, limitBytes: number): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) throw tooLarge(limitBytes);
}

/** Reads at most `limitBytes`, then parses strictly (duplicate keys, floats, deep nesting refused). */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  checkDeclaredLength(req, limitBytes);
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/json\b/i.test(type)) {
    throw new HttpError(415, HttpErrorCode.UNSUPPORTED_MEDIA_TYPE, 'content-type must be application/json');
  }
  const text = (await readBytes(req, limitBytes)).toString('utf8');
  if (text.length === 0) throw invalidRequest('a JSON body is required');
  return parseStrictJson(text);
}

/** True when the request body is a frame (a JSON head plus raw blobs) rather than JSON. */
export function isFrameBody(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith(FRAME_CONTENT_TYPE);
}

/** Reads a frame body of at most `limitBytes` and parses it strictly; malformed frames are 400. */
export async function readFrameBody(
  req: IncomingMessage,
  limitBytes: number,
  limits: FrameLimits,
): Promise<{ json: unknown; blobs: Uint8Array[] }> {
  checkDeclaredLength(req, limitBytes);
  const bytes = await readBytes(req, limitBytes);
  try {
    return decodeFrame(bytes, limits);
  } catch (err: unknown) {
    throw invalidRequest(err instanceof Error ? err.message : 'malformed frame');
  }
}

async function readBytes(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.byteLength;
    if (size > limitBytes) throw tooLarge(limitBytes);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}
