import { idSchema } from '@rune/protocol';
import { z } from 'zod';
import { RuneClientError, invalidArgument } from './errors.js';

/** Version of the sealed record layout; a reader skips records of any other. */
export const RECORD_PAYLOAD_VERSION = 1;
/** Where a recorded decision stands. */
export const RECORD_STATUSES = ['proposed', 'accepted', 'rejected'] as const;
export type RecordStatus = (typeof RECORD_STATUSES)[number];
/** Largest sealed plaintext: far below the index's insert limit once the vector (~850 KB) is beside it. */
/**
 * Sealed plaintexts are padded with JSON whitespace to a multiple of this, so the index learns a
 * size bucket, not a length, and the Vault's canaries (drawn from the same buckets) blend in.
 */
export const RECORD_PAD_BYTES = 512;
/** The index stores sealed records up to 256 KiB; padding and the seal's 29 bytes must fit. */
export const MAX_RECORD_JSON_BYTES = 256 * 1024 - RECORD_PAD_BYTES;

/**
 * What a record seals (AES-256-GCM under K_r): the memory itself. The index stores it opaque; the
 * Vault never sees it. Readers strip unknown fields, so later versions may add fields.
 */
export const recordPayloadSchema = z.object({
  v: z.literal(RECORD_PAYLOAD_VERSION),
  insight: z
    .string()
    .min(1)
    .max(32 * 1024),
  context: z
    .string()
    .max(64 * 1024)
    .exactOptional(),
  title: z.string().max(512).exactOptional(),
  tags: z.array(z.string().min(1).max(64)).max(32).exactOptional(),
  /** The capturing member's id or name, as their config says. */
  author: z.string().max(256).exactOptional(),
  /** Milliseconds since the Unix epoch, from the capturing member's clock. */
  createdAt: z.int().min(0),
  // Added after the first records were sealed: optional, so version-1 records without them still read.
  /** Area of the codebase or practice the memory is about, e.g. "payments" or "ci". */
  domain: z.string().min(1).max(64).exactOptional(),
  /** Where a decision stands; recall ranks rejected ones below accepted ones. */
  status: z.enum(RECORD_STATUSES).exactOptional(),
  /** Id of the record this one replaces; that record then ranks down and names this one. */
  supersedes: idSchema.exactOptional(),
});

export type RecordPayload = z.infer<typeof recordPayloadSchema>;

const encoder = new TextEncoder();

/** UTF-8 JSON of a validated payload, ready to seal. */
export function encodeRecordPayload(payload: RecordPayload): Uint8Array {
  const parsed = recordPayloadSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidArgument(`record: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'is invalid'}`.trim());
  }
  const bytes = encoder.encode(JSON.stringify(parsed.data));
  if (bytes.byteLength > MAX_RECORD_JSON_BYTES) {
    throw invalidArgument(
      `record is ${bytes.byteLength} bytes; at most ${MAX_RECORD_JSON_BYTES} can be stored`,
    );
  }
  return padToBucket(bytes);
}

/** Reads an opened record; one this client cannot read (another version, a bug) is RECORD_UNREADABLE. */
export function decodeRecordPayload(bytes: Uint8Array, recordId: string): RecordPayload {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err: unknown) {
    throw unreadable(recordId, 'it is not UTF-8 JSON', err);
  }
  const parsed = recordPayloadSchema.safeParse(withoutUnknownValues(json));
  if (!parsed.success) throw unreadable(recordId, 'it is not a version 1 record', parsed.error);
  return parsed.data;
}

/** Optional fields a newer client may fill with values this one does not know: dropped, like unknown fields. */
const LENIENT_FIELDS = ['domain', 'status', 'supersedes'] as const;

function withoutUnknownValues(json: unknown): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return json;
  const isKept = ([key, value]: [string, unknown]) =>
    !LENIENT_FIELDS.some((f) => f === key && !recordPayloadSchema.shape[f].safeParse(value).success);
  return Object.fromEntries(Object.entries(json).filter(isKept));
}

function unreadable(recordId: string, detail: string, cause: unknown): RuneClientError {
  return new RuneClientError('RECORD_UNREADABLE', `record ${recordId} opened but ${detail}`, {
    hint: 'it was probably written by a newer client; update rune',
    cause,
  });
}

/** Trailing spaces are insignificant to JSON.parse, so padding needs no framing. */
function padToBucket(json: Uint8Array): Uint8Array {
  const size = Math.max(RECORD_PAD_BYTES, Math.ceil(json.byteLength / RECORD_PAD_BYTES) * RECORD_PAD_BYTES);
  const out = new Uint8Array(size).fill(0x20);
  out.set(json);
  return out;
}
