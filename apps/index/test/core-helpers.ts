import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ScoreDecryptor,
  encryptQuery,
  encryptVector,
  generateKeyPair,
  parseBlockScores,
  serializeEncryptedQuery,
  serializeEncryptedVector,
  systemRandom,
  type BlockScores,
  type Engine,
  type KeyPair,
} from '@rune/crypto';
import {
  MessageKind,
  createSigner,
  generateSigningKeyPair,
  hashQuery,
  importVerificationKey,
  newNonce,
  signEnvelope,
  type CapturePermit,
  type DeletePermit,
  type Envelope,
  type SearchTicket,
  type Signer,
  type VerificationKey,
} from '@rune/protocol';
import { expect } from 'vitest';
import { createWasmKernels } from '../../../packages/crypto/src/wasm/wasm-kernels.js';
import { IndexError, type IndexErrorCode } from '../src/errors.js';
import { createIndexService, type BlockScoringPool, type IndexService } from '../src/core/index-service.js';
import { plainQueryBytes } from '../src/core/query-bytes.js';
import { openEmbeddedStore, type EmbeddedStore } from '../src/storage/embedded-store.js';

/** A fixed clock: 2026-01-01T00:00:00Z. */
export const NOW = Date.UTC(2026, 0, 1);
export const LIFETIME_MS = 60_000;
export const INDEX_ID = 'team-a';

/** One WASM kernel instance for everything, so a ScoringPool can share its memory. */
export const kernels = createWasmKernels();
export const engine: Engine = { kernels, random: systemRandom };

const keyPairs = new Map<number, KeyPair>();
/** The Vault's lattice key pair of a parameter set (tests decrypt scores with its secret key). */
export function latticeKeys(paramSetId: number): KeyPair {
  let keys = keyPairs.get(paramSetId);
  if (keys === undefined) {
    keys = generateKeyPair(engine, paramSetId);
    keyPairs.set(paramSetId, keys);
  }
  return keys;
}

export interface Party {
  readonly signer: Signer;
  readonly key: VerificationKey;
}

export function newParty(): Party {
  const pair = generateSigningKeyPair();
  return { signer: createSigner(pair.privateKey), key: importVerificationKey(pair.publicKey) };
}

export const vault = newParty();
export const indexParty = newParty();

/** A deterministic unit vector (norm 0.999) of dimension `dim` for seed i. */
export function unitVector(i: number, dim: number): Float32Array {
  const v = new Float32Array(dim);
  let sq = 0;
  for (let d = 0; d < dim; d++) {
    const x = Math.sin((i + 1) * 12.9898 + d * 78.233);
    v[d] = x;
    sq += x * x;
  }
  const inv = 0.999 / Math.sqrt(sq);
  for (let d = 0; d < dim; d++) v[d] = (v[d] ?? 0) * inv;
  return v;
}

export function encryptedVector(i: number, dim: number, paramSetId = 1): Uint8Array {
  return serializeEncryptedVector(
    encryptVector(engine, latticeKeys(paramSetId).publicKey, unitVector(i, dim)),
  );
}

/** Query bytes as a member sends them: float32 LE in plaintext mode, an encrypted query otherwise. */
export function queryBytes(i: number, dim: number, paramSetId = 1): Uint8Array {
  if (paramSetId === 1) return plainQueryBytes(unitVector(i, dim));
  return serializeEncryptedQuery(encryptQuery(engine, latticeKeys(paramSetId).publicKey, unitVector(i, dim)));
}

export function sealedFor(recordId: string): Uint8Array {
  return new TextEncoder().encode(`sealed:${recordId}`);
}

/** The Vault's slot convention: record n sits at block floor(n/128), slot n % 128. */
export function capturePermit(
  n: number,
  overrides: Partial<CapturePermit> = {},
  signer: Signer = vault.signer,
): Envelope<'capture-permit'> {
  return signEnvelope(
    MessageKind.CAPTURE_PERMIT,
    {
      v: 1,
      indexId: INDEX_ID,
      recordId: `rec-${n}`,
      blockId: Math.floor(n / 128),
      slot: n % 128,
      keyVersion: 1,
      paramSetId: 1,
      dim: 32,
      epoch: 1,
      issuedAt: NOW,
      expiresAt: NOW + LIFETIME_MS,
      nonce: newNonce(),
      ...overrides,
    },
    signer,
  );
}

export function deletePermit(
  recordId: string,
  overrides: Partial<DeletePermit> = {},
  signer: Signer = vault.signer,
): Envelope<'delete-permit'> {
  return signEnvelope(
    MessageKind.DELETE_PERMIT,
    {
      v: 1,
      indexId: INDEX_ID,
      recordId,
      epoch: 1,
      issuedAt: NOW,
      expiresAt: NOW + LIFETIME_MS,
      nonce: newNonce(),
      ...overrides,
    },
    signer,
  );
}

export function searchTicket(
  query: Uint8Array,
  blockCount: number,
  wordsPerBlock: number,
  overrides: Partial<SearchTicket> = {},
  signer: Signer = vault.signer,
): Envelope<'search-ticket'> {
  return signEnvelope(
    MessageKind.SEARCH_TICKET,
    {
      v: 1,
      ticketId: newNonce(),
      indexId: INDEX_ID,
      epoch: 1,
      paramSetId: 1,
      dim: 32,
      queryHash: hashQuery(query),
      k: 5,
      expected: { blockCount, wordsPerBlock },
      issuedAt: NOW,
      expiresAt: NOW + LIFETIME_MS,
      ...overrides,
    },
    signer,
  );
}

export interface Harness {
  readonly dir: string;
  store: EmbeddedStore;
  service: IndexService;
  clock: { now: number };
  /** Closes the service and store and opens both again on the same directory. */
  restart(): Promise<void>;
}

export async function withService<T>(
  fn: (h: Harness) => Promise<T>,
  options: { pool?: BlockScoringPool; replayCapacity?: number } = {},
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'rune-index-core-'));
  const clock = { now: NOW };
  const open = async (): Promise<{ store: EmbeddedStore; service: IndexService }> => {
    const store = await openEmbeddedStore({
      dataDir: dir,
      logger: { warn: () => undefined },
      now: () => new Date(clock.now),
    });
    const service = createIndexService({
      store,
      engine,
      signer: indexParty.signer,
      vaultVerifyKeys: vault.key,
      clock: () => clock.now,
      ...(options.pool === undefined ? {} : { pool: options.pool }),
      ...(options.replayCapacity === undefined ? {} : { replayCapacity: options.replayCapacity }),
    });
    return { store, service };
  };
  const first = await open();
  const h: Harness = {
    dir,
    clock,
    store: first.store,
    service: first.service,
    async restart() {
      await h.service.close();
      await h.store.close();
      const next = await open();
      await next.service.open();
      h.store = next.store;
      h.service = next.service;
    },
  };
  try {
    return await fn(h);
  } finally {
    await h.service.close();
    await h.store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Decrypts every score of a search response: key `${blockId}:${slot}`. */
export function decryptAll(blocks: readonly Uint8Array[], paramSetId = 1): Map<string, number> {
  const decryptor = ScoreDecryptor.create(engine, latticeKeys(paramSetId).secretKey);
  const out = new Map<string, number>();
  const scores = new Float64Array(128);
  blocks.forEach((bytes, blockId) => {
    decryptor.decryptBlock(parseBlockScores(bytes, { paramSetId, blockId }), scores);
    scores.forEach((s, slot) => out.set(`${blockId}:${slot}`, s));
  });
  return out;
}

export function parsedBlocks(blocks: readonly Uint8Array[], paramSetId = 1): BlockScores[] {
  return blocks.map((bytes, blockId) => parseBlockScores(bytes, { paramSetId, blockId }));
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? 0) * (b[i] ?? 0);
  return s;
}

/** Awaits `promise` and asserts it rejects with an IndexError of `code`; returns the error. */
export async function expectIndexError(promise: Promise<unknown>, code: IndexErrorCode): Promise<IndexError> {
  let thrown: unknown;
  try {
    await promise;
  } catch (err: unknown) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(IndexError);
  expect((thrown as IndexError).code).toBe(code);
  return thrown as IndexError;
}
