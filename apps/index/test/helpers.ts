import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  QueryMode,
  createEngine,
  encryptVector,
  generateKeyPair,
  serializeEncryptedVector,
  type Engine,
  type KeyPair,
} from '@rune/crypto';
import { openEmbeddedStore, type EmbeddedStore } from '../src/storage/embedded-store.js';
import type { CreateIndexInput } from '../src/storage/index-store.js';

export const DIM = 32;

export const TEST_INDEX: CreateIndexInput = {
  id: 'team-a',
  paramSetId: 1,
  dim: DIM,
  queryMode: QueryMode.PLAINTEXT,
  embedderId: 'test/embedder@1',
};

export interface Warning {
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** Collects warnings instead of writing to stderr, so tests can assert on them. */
export function collectingLogger(): {
  warnings: Warning[];
  warn: (f: Record<string, unknown>, m: string) => void;
} {
  const warnings: Warning[] = [];
  return { warnings, warn: (fields, message) => warnings.push({ fields, message }) };
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'rune-index-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function openStore(dir: string, logger = collectingLogger()): Promise<EmbeddedStore> {
  return openEmbeddedStore({ dataDir: dir, logger, now: () => new Date('2026-01-01T00:00:00Z') });
}

let shared: { engine: Engine; keys: KeyPair } | undefined;

export function testCrypto(): { engine: Engine; keys: KeyPair } {
  if (shared === undefined) {
    const engine = createEngine({ kernels: 'wasm' });
    shared = { engine, keys: generateKeyPair(engine, 1) };
  }
  return shared;
}

/** A deterministic-looking unit vector of dimension DIM for record i. */
export function unitVector(i: number): Float32Array {
  const v = new Float32Array(DIM);
  let sq = 0;
  for (let d = 0; d < DIM; d++) {
    const x = Math.sin((i + 1) * 12.9898 + d * 78.233);
    v[d] = x;
    sq += x * x;
  }
  const inv = 1 / Math.sqrt(sq);
  for (let d = 0; d < DIM; d++) v[d] = (v[d] ?? 0) * inv * 0.999;
  return v;
}

export function encryptedVectorBytes(i: number): Uint8Array {
  const { engine, keys } = testCrypto();
  return serializeEncryptedVector(encryptVector(engine, keys.publicKey, unitVector(i)));
}

/** Stand-in for an AES-GCM-sealed record: deterministic bytes derived from the record id. */
export function sealedFor(recordId: string, sizeBytes = 300): Uint8Array {
  const out = new Uint8Array(sizeBytes);
  let block = createHash('sha256').update(recordId).digest();
  for (let o = 0; o < sizeBytes; o += block.length) {
    out.set(block.subarray(0, Math.min(block.length, sizeBytes - o)), o);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}
