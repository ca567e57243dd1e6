import { parseStrictJson } from './canonical.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';

/**
 * Media type of a frame: a small JSON head plus raw binary blobs. Search results carry every
 * block's encrypted scores (~37 KB each); as base64 inside JSON they cost a third more bytes and
 * a string scan per hop, which dominated recall latency (docs/decisions/0007).
 */
export const FRAME_CONTENT_TYPE = 'application/vnd.rune.frame';

const MAGIC = [0x52, 0x4e, 0x46, 0x31]; // "RNF1"
const HEADER_BYTES = 8;

export interface FrameLimits {
  readonly maxJsonBytes: number;
  readonly maxBlobs: number;
  readonly maxBlobBytes: number;
}

/**
 * Layout (little-endian): "RNF1", u32 JSON length, UTF-8 JSON, u32 blob count, then per blob
 * u32 length and its bytes. Nothing may follow the last blob.
 */
export function encodeFrame(json: unknown, blobs: readonly Uint8Array[]): Uint8Array {
  const head = Buffer.from(JSON.stringify(json), 'utf8');
  const size = HEADER_BYTES + head.byteLength + 4 + blobs.reduce((n, b) => n + 4 + b.byteLength, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(4, head.byteLength, true);
  out.set(head, HEADER_BYTES);
  let at = HEADER_BYTES + head.byteLength;
  view.setUint32(at, blobs.length, true);
  at += 4;
  for (const blob of blobs) {
    view.setUint32(at, blob.byteLength, true);
    out.set(blob, at + 4);
    at += 4 + blob.byteLength;
  }
  return out;
}

/** Parses a frame strictly: every length is bounded and checked, and the JSON head parsed strictly. */
export function decodeFrame(bytes: Uint8Array, limits: FrameLimits): { json: unknown; blobs: Uint8Array[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (at: number, n: number, what: string) => {
    if (at + n > bytes.byteLength) malformed(`frame truncated in ${what}`);
  };
  need(0, HEADER_BYTES, 'the header');
  if (MAGIC.some((m, i) => bytes[i] !== m)) malformed('not a Rune frame (bad magic)');
  const jsonBytes = view.getUint32(4, true);
  if (jsonBytes > limits.maxJsonBytes) malformed(`frame JSON head over ${limits.maxJsonBytes} bytes`);
  need(HEADER_BYTES, jsonBytes + 4, 'the JSON head');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(
      bytes.subarray(HEADER_BYTES, HEADER_BYTES + jsonBytes),
    );
  } catch {
    malformed('frame JSON head is not UTF-8');
  }
  const json = parseStrictJson(text);
  let at = HEADER_BYTES + jsonBytes;
  const count = view.getUint32(at, true);
  at += 4;
  if (count > limits.maxBlobs) malformed(`frame carries ${count} blobs, at most ${limits.maxBlobs} allowed`);
  const blobs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    need(at, 4, `blob ${i}'s length`);
    const length = view.getUint32(at, true);
    if (length > limits.maxBlobBytes) malformed(`frame blob ${i} over ${limits.maxBlobBytes} bytes`);
    need(at + 4, length, `blob ${i}`);
    blobs.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  if (at !== bytes.byteLength) malformed(`${bytes.byteLength - at} bytes after the last blob`);
  return { json, blobs };
}

function malformed(message: string): never {
  throw new ProtocolError(ProtocolErrorCode.MALFORMED_REQUEST, message);
}
