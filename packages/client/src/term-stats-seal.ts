import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { TermStatsDelta } from '@rune/embed';

/**
 * Sealed term-statistics deltas (docs/formats.md, decision 0009).
 *
 * Plaintext: version u8 = 1 | documents i8 (+1 / −1) | count u32 LE | count distinct term hashes
 * (u32 LE, ascending) | zero padding up to the smallest size bucket that holds it.
 * Sealed: version u8 = 1 | nonce 12 B | AES-256-GCM ciphertext | tag 16 B, under the index's stats
 * key, with AAD = "rune/term-stats/v1" ‖ 0 ‖ index id ‖ 0 ‖ record id ‖ 0 ‖ kind. The AAD binds a
 * delta to the permit it was published with, so the index cannot move it to another record or turn
 * a capture's +1 into a forget's −1.
 */
export const TERM_STATS_SEAL_VERSION = 1;
export const TERM_STATS_PLAIN_VERSION = 1;
export const TERM_STATS_SEAL_OVERHEAD = 1 + 12 + 16;
/** Padded plaintext sizes: the index learns only which bucket a document's distinct-term count falls in. */
export const TERM_STATS_BUCKETS = [64, 256, 1024, 4096, 16_384, 65_536, 131_072] as const;
const HEAD_BYTES = 6;
const MAX_BUCKET = TERM_STATS_BUCKETS[TERM_STATS_BUCKETS.length - 1] ?? 131_072;
/** Distinct terms one delta can carry (32,766); a longer document publishes its lowest hashes only. */
export const MAX_DELTA_TERMS = Math.floor((MAX_BUCKET - HEAD_BYTES) / 4);
export const TERM_STATS_AAD_PREFIX = 'rune/term-stats/v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export type DeltaKind = 'capture' | 'forget';

export interface DeltaBinding {
  readonly indexId: string;
  readonly recordId: string;
  readonly kind: DeltaKind;
}

export function termStatsAad(binding: DeltaBinding): Buffer {
  return Buffer.from(
    `${TERM_STATS_AAD_PREFIX}\0${binding.indexId}\0${binding.recordId}\0${binding.kind}`,
    'utf8',
  );
}

/** Distinct, ascending u32 hashes, capped at MAX_DELTA_TERMS (the lowest hashes win: deterministic). */
export function normaliseTerms(terms: Uint32Array): Uint32Array {
  const unique = Uint32Array.from(new Set(Array.from(terms, (t) => t >>> 0))).sort();
  return unique.length > MAX_DELTA_TERMS ? unique.slice(0, MAX_DELTA_TERMS) : unique;
}

export function encodeDeltaPlaintext(delta: TermStatsDelta): Buffer {
  const terms = normaliseTerms(delta.terms);
  const needed = HEAD_BYTES + terms.length * 4;
  const size = TERM_STATS_BUCKETS.find((b) => b >= needed) ?? MAX_BUCKET;
  const out = Buffer.alloc(size);
  out.writeUInt8(TERM_STATS_PLAIN_VERSION, 0);
  out.writeInt8(delta.documents, 1);
  out.writeUInt32LE(terms.length, 2);
  terms.forEach((term, i) => out.writeUInt32LE(term, HEAD_BYTES + i * 4));
  return out;
}

export function sealTermStatsDelta(
  key: Uint8Array,
  binding: DeltaBinding,
  delta: TermStatsDelta,
): Uint8Array {
  assertKey(key);
  if (delta.documents !== (binding.kind === 'capture' ? 1 : -1)) {
    throw new TypeError(
      `a ${binding.kind} delta counts ${binding.kind === 'capture' ? '+1' : '−1'} document`,
    );
  }
  const plaintext = encodeDeltaPlaintext(delta);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(termStatsAad(binding));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  plaintext.fill(0);
  return Buffer.concat([Buffer.from([TERM_STATS_SEAL_VERSION]), nonce, body, cipher.getAuthTag()]);
}

export type OpenedDelta = { readonly delta: TermStatsDelta } | { readonly refusal: string };

/**
 * Opens one delta; fails closed. A refusal names why (never the content) so the caller can skip the
 * delta with a warning: a flipped bit, a wrong key, a truncation or a moved delta all fail the tag.
 */
export function openTermStatsDelta(key: Uint8Array, binding: DeltaBinding, sealed: Uint8Array): OpenedDelta {
  assertKey(key);
  const minimum = TERM_STATS_SEAL_OVERHEAD + TERM_STATS_BUCKETS[0];
  if (sealed.byteLength < minimum || sealed.byteLength > TERM_STATS_SEAL_OVERHEAD + MAX_BUCKET) {
    return { refusal: `sealed delta of ${sealed.byteLength} bytes is outside every bucket` };
  }
  if (sealed[0] !== TERM_STATS_SEAL_VERSION) return { refusal: `unknown seal version ${String(sealed[0])}` };
  const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
  const tag = sealed.subarray(sealed.byteLength - TAG_BYTES);
  const body = sealed.subarray(1 + NONCE_BYTES, sealed.byteLength - TAG_BYTES);
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(termStatsAad(binding));
    decipher.setAuthTag(tag);
    plaintext = Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    return { refusal: 'authentication failed (tampered, truncated, moved, or another key)' };
  }
  return parseDeltaPlaintext(plaintext, binding.kind);
}

function parseDeltaPlaintext(plaintext: Buffer, kind: DeltaKind): OpenedDelta {
  if (!TERM_STATS_BUCKETS.includes(plaintext.byteLength as (typeof TERM_STATS_BUCKETS)[number])) {
    return { refusal: 'plaintext is not a bucket size' };
  }
  if (plaintext.readUInt8(0) !== TERM_STATS_PLAIN_VERSION) return { refusal: 'unknown delta version' };
  const documents = plaintext.readInt8(1);
  if (documents !== (kind === 'capture' ? 1 : -1))
    return { refusal: `a ${kind} delta counting ${documents}` };
  const count = plaintext.readUInt32LE(2);
  const end = HEAD_BYTES + count * 4;
  if (count > MAX_DELTA_TERMS || end > plaintext.byteLength)
    return { refusal: 'term count exceeds the delta' };
  if (plaintext.subarray(end).some((b) => b !== 0)) return { refusal: 'non-zero padding' };
  const terms = new Uint32Array(count);
  for (let i = 0; i < count; i++) terms[i] = plaintext.readUInt32LE(HEAD_BYTES + i * 4);
  return { delta: { documents: kind === 'capture' ? 1 : -1, terms } };
}

function assertKey(key: Uint8Array): void {
  if (key.byteLength !== KEY_BYTES) throw new TypeError(`the stats key must be ${KEY_BYTES} bytes`);
}
