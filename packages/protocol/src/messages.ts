import { z } from 'zod';
import { base64urlLength } from './base64url.js';
import { SHA256_BYTES } from './hashing.js';

/** Version of every payload below; a verifier refuses any other. */
export const PROTOCOL_VERSION = 1;

export const MessageKind = {
  /** Vault → member → index: authorises one encrypted-vector insert into one slot. */
  CAPTURE_PERMIT: 'capture-permit',
  /** Vault → member → index → Vault: authorises one search of one query, once. */
  SEARCH_TICKET: 'search-ticket',
  /** Index → member → Vault: the encrypted scores of one ticket's search. */
  SEARCH_RESULT: 'search-result',
  /** Index → member: the insert a permit authorised is durable. */
  INSERT_RECEIPT: 'insert-receipt',
  /** Vault → member → index: authorises cancelling one record's vector and dropping its sealed bytes. */
  DELETE_PERMIT: 'delete-permit',
  /** Vault → member → index: authorises reading one index's sealed term-statistics deltas for a while. */
  TERM_STATS_GRANT: 'term-stats-grant',
} as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];
export const MESSAGE_KINDS = Object.values(MessageKind);

/** Lifetime caps: a signer cannot mint a long-lived permit or ticket even by mistake. */
export const MAX_PERMIT_LIFETIME_MS = 15 * 60_000;
export const MAX_TICKET_LIFETIME_MS = 5 * 60_000;

/** Blocks one search may touch: 16384 × 128 slots ≈ 2M records, far beyond the 100k target. */
export const MAX_BLOCKS_PER_SEARCH = 16_384;
export const MAX_TOP_K = 100;
/** Score words per block: 8448 for parameter set 1; bounded well above every known set. */
export const MAX_WORDS_PER_BLOCK = 1 << 20;
export const SLOTS_PER_BLOCK = 128;
export const MAX_DIM = 4096;
/** Random bytes in a ticket id and a permit nonce. */
export const NONCE_BYTES = 16;

const MAX_U32 = 0xffff_ffff;

export const idSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1..64 of [A-Za-z0-9_-]');

/** Fixed-length unpadded base64url (zero trailing bits checked where the bytes are decoded). */
function base64urlOf(byteLength: number) {
  const length = base64urlLength(byteLength);
  return z
    .string()
    .length(length)
    .regex(/^[A-Za-z0-9_-]*$/, 'must be unpadded base64url');
}

export const sha256Schema = base64urlOf(SHA256_BYTES);
export const nonceSchema = base64urlOf(NONCE_BYTES);

const u32 = z.int().min(0).max(MAX_U32);
const paramSetIdSchema = z.int().min(1).max(0xffff);
const dimSchema = z.int().min(1).max(MAX_DIM);
/** Milliseconds since the Unix epoch. */
const timestampSchema = z.int().min(0);

interface Validity {
  readonly issuedAt: number;
  readonly expiresAt: number;
}

function validityCheck(maxLifetimeMs: number) {
  return (v: Validity) => v.expiresAt > v.issuedAt && v.expiresAt - v.issuedAt <= maxLifetimeMs;
}

export const capturePermitSchema = z
  .strictObject({
    v: z.literal(PROTOCOL_VERSION),
    indexId: idSchema,
    recordId: idSchema,
    blockId: u32,
    slot: z
      .int()
      .min(0)
      .max(SLOTS_PER_BLOCK - 1),
    keyVersion: u32,
    paramSetId: paramSetIdSchema,
    dim: dimSchema,
    epoch: u32,
    issuedAt: timestampSchema,
    expiresAt: timestampSchema,
    nonce: nonceSchema,
  })
  .refine(validityCheck(MAX_PERMIT_LIFETIME_MS), {
    message: `expiresAt must follow issuedAt by at most ${MAX_PERMIT_LIFETIME_MS} ms`,
  });
export type CapturePermit = z.infer<typeof capturePermitSchema>;

export const searchTicketSchema = z
  .strictObject({
    v: z.literal(PROTOCOL_VERSION),
    ticketId: nonceSchema,
    indexId: idSchema,
    epoch: u32,
    paramSetId: paramSetIdSchema,
    dim: dimSchema,
    queryHash: sha256Schema,
    k: z.int().min(1).max(MAX_TOP_K),
    expected: z.strictObject({
      blockCount: z.int().min(0).max(MAX_BLOCKS_PER_SEARCH),
      wordsPerBlock: z.int().min(1).max(MAX_WORDS_PER_BLOCK),
    }),
    issuedAt: timestampSchema,
    expiresAt: timestampSchema,
  })
  .refine(validityCheck(MAX_TICKET_LIFETIME_MS), {
    message: `expiresAt must follow issuedAt by at most ${MAX_TICKET_LIFETIME_MS} ms`,
  });
export type SearchTicket = z.infer<typeof searchTicketSchema>;

export const resultBlockSchema = z.strictObject({ blockId: u32, sha256: sha256Schema });
export type ResultBlock = z.infer<typeof resultBlockSchema>;

export const searchResultSchema = z
  .strictObject({
    v: z.literal(PROTOCOL_VERSION),
    ticketId: nonceSchema,
    indexId: idSchema,
    epoch: u32,
    /** The index hashes the query it actually scored; the Vault compares it with the ticket's. */
    queryHash: sha256Schema,
    blocks: z.array(resultBlockSchema).max(MAX_BLOCKS_PER_SEARCH),
  })
  // Strictly increasing block ids: no block twice, and one canonical order to compare.
  .refine((r) => r.blocks.every((b, i) => i === 0 || b.blockId > (r.blocks[i - 1]?.blockId ?? -1)), {
    message: 'block ids must be strictly increasing',
  });
export type SearchResult = z.infer<typeof searchResultSchema>;

export const insertReceiptSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  indexId: idSchema,
  recordId: idSchema,
  blockId: u32,
  slot: z
    .int()
    .min(0)
    .max(SLOTS_PER_BLOCK - 1),
  epoch: u32,
  /** SHA-256 of the serialised EncryptedVector the index made durable. */
  ciphertextSha256: sha256Schema,
});
export type InsertReceipt = z.infer<typeof insertReceiptSchema>;

export const deletePermitSchema = z
  .strictObject({
    v: z.literal(PROTOCOL_VERSION),
    indexId: idSchema,
    recordId: idSchema,
    epoch: u32,
    issuedAt: timestampSchema,
    expiresAt: timestampSchema,
    nonce: nonceSchema,
  })
  .refine(validityCheck(MAX_PERMIT_LIFETIME_MS), {
    message: `expiresAt must follow issuedAt by at most ${MAX_PERMIT_LIFETIME_MS} ms`,
  });
export type DeletePermit = z.infer<typeof deletePermitSchema>;

/** Read access to sealed term-statistics deltas; the deltas stay opaque without the Vault's stats key. */
export const termStatsGrantSchema = z
  .strictObject({
    v: z.literal(PROTOCOL_VERSION),
    indexId: idSchema,
    epoch: u32,
    issuedAt: timestampSchema,
    expiresAt: timestampSchema,
    nonce: nonceSchema,
  })
  .refine(validityCheck(MAX_PERMIT_LIFETIME_MS), {
    message: `expiresAt must follow issuedAt by at most ${MAX_PERMIT_LIFETIME_MS} ms`,
  });
export type TermStatsGrant = z.infer<typeof termStatsGrantSchema>;

export const payloadSchemas = {
  [MessageKind.CAPTURE_PERMIT]: capturePermitSchema,
  [MessageKind.SEARCH_TICKET]: searchTicketSchema,
  [MessageKind.SEARCH_RESULT]: searchResultSchema,
  [MessageKind.INSERT_RECEIPT]: insertReceiptSchema,
  [MessageKind.DELETE_PERMIT]: deletePermitSchema,
  [MessageKind.TERM_STATS_GRANT]: termStatsGrantSchema,
} as const;

export interface PayloadByKind {
  [MessageKind.CAPTURE_PERMIT]: CapturePermit;
  [MessageKind.SEARCH_TICKET]: SearchTicket;
  [MessageKind.SEARCH_RESULT]: SearchResult;
  [MessageKind.INSERT_RECEIPT]: InsertReceipt;
  [MessageKind.DELETE_PERMIT]: DeletePermit;
  [MessageKind.TERM_STATS_GRANT]: TermStatsGrant;
}
export type PayloadOf<K extends MessageKind> = PayloadByKind[K];

/** Kinds whose payload carries issuedAt/expiresAt, checked by verifyEnvelope against its clock. */
export function isTimeBound(kind: MessageKind): boolean {
  return (
    kind === MessageKind.CAPTURE_PERMIT ||
    kind === MessageKind.SEARCH_TICKET ||
    kind === MessageKind.DELETE_PERMIT ||
    kind === MessageKind.TERM_STATS_GRANT
  );
}
