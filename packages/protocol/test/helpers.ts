import { expect } from 'vitest';
import {
  MessageKind,
  ProtocolError,
  createSigner,
  generateSigningKeyPair,
  hashBytes,
  hashQuery,
  importVerificationKey,
  type PayloadByKind,
  type ProtocolErrorCode,
  type Signer,
  type VerificationKey,
} from '../src/index.js';

/** A fixed clock: 2026-01-01T00:00:00Z. */
export const NOW = Date.UTC(2026, 0, 1);
export const LIFETIME_MS = 60_000;

export interface Party {
  readonly signer: Signer;
  readonly key: VerificationKey;
}

export function newParty(): Party {
  const pair = generateSigningKeyPair();
  return { signer: createSigner(pair.privateKey), key: importVerificationKey(pair.publicKey) };
}

export const QUERY_BYTES = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
/** Spaced ids, so a tamper test can bump one and keep them strictly increasing. */
export const BLOCK_IDS = [0, 4, 8];
export const BLOCKS = [new Uint8Array([10, 11, 12]), new Uint8Array([20, 21, 22]), new Uint8Array([30])];

export function samplePayloads(): PayloadByKind {
  return {
    [MessageKind.CAPTURE_PERMIT]: {
      v: 1,
      indexId: 'team-a_main',
      recordId: 'rec_0001',
      blockId: 7,
      slot: 127,
      keyVersion: 3,
      paramSetId: 1,
      dim: 384,
      epoch: 2,
      issuedAt: NOW,
      expiresAt: NOW + LIFETIME_MS,
      nonce: 'AAECAwQFBgcICQoLDA0ODw',
    },
    [MessageKind.SEARCH_TICKET]: {
      v: 1,
      ticketId: 'EBESExQVFhcYGRobHB0eHw',
      indexId: 'team-a_main',
      epoch: 2,
      paramSetId: 1,
      dim: 384,
      queryHash: hashQuery(QUERY_BYTES),
      k: 10,
      expected: { blockCount: BLOCKS.length, wordsPerBlock: 8448 },
      issuedAt: NOW,
      expiresAt: NOW + LIFETIME_MS,
    },
    [MessageKind.SEARCH_RESULT]: {
      v: 1,
      ticketId: 'EBESExQVFhcYGRobHB0eHw',
      indexId: 'team-a_main',
      epoch: 2,
      queryHash: hashQuery(QUERY_BYTES),
      blocks: BLOCKS.map((bytes, i) => ({ blockId: BLOCK_IDS[i]!, sha256: hashBytes(bytes) })),
    },
    [MessageKind.INSERT_RECEIPT]: {
      v: 1,
      indexId: 'team-a_main',
      recordId: 'rec_0001',
      blockId: 7,
      slot: 127,
      epoch: 2,
      ciphertextSha256: hashBytes(new Uint8Array([9, 9, 9])),
    },
    [MessageKind.DELETE_PERMIT]: {
      v: 1,
      indexId: 'team-a_main',
      recordId: 'rec_0001',
      epoch: 2,
      issuedAt: NOW,
      expiresAt: NOW + LIFETIME_MS,
      nonce: 'ICEiIyQlJicoKSorLC0uLw',
    },
    [MessageKind.TERM_STATS_GRANT]: {
      v: 1,
      indexId: 'team-a_main',
      epoch: 2,
      issuedAt: NOW,
      expiresAt: NOW + LIFETIME_MS,
      nonce: 'MDEyMzQ1Njc4OTo7PD0-Pw',
    },
  };
}

/** Runs `fn` and asserts it throws a ProtocolError with `code`. */
export function expectCode(fn: () => unknown, code: ProtocolErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err: unknown) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ProtocolError);
  expect((thrown as ProtocolError).code).toBe(code);
}

/** Deep copy through JSON, as a message would arrive from the wire. */
export function viaWire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/** The ProtocolError code `fn` throws, or 'NO_ERROR'; for table assertions that name the case. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err: unknown) {
    return err instanceof ProtocolError ? err.code : `NOT_A_PROTOCOL_ERROR: ${String(err)}`;
  }
  return 'NO_ERROR';
}
