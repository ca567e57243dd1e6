import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import {
  addToBlock,
  blockScoreWords,
  createBlock,
  createEngine,
  createPreparedQuery,
  encryptVector,
  generateKeyPair,
  generateTeamSecret,
  parseEncryptedVector,
  preparePlainQuery,
  scoreBlocks,
  serializeBlockScores,
  serializeEncryptedVector,
  type Block,
  type Engine,
  type KeyPair,
} from '@rune/crypto';
import {
  type Envelope,
  type Signer,
  assertQueryMatchesTicket,
  createSigner,
  hashBytes,
  importVerificationKey,
  signEnvelope,
  verifyEnvelope,
} from '@rune/protocol';
import { AuditLog, type AuditEntry } from '../src/audit-log.js';
import { MemberRegistry } from '../src/member-registry.js';
import {
  bytesToFloat32,
  createSearchCore,
  randomUnitVector,
  type SearchCore,
  type SearchDeps,
} from '../src/search/index.js';
import { fakeClock, tempDir } from './helpers.js';

export const DIM = 32;
export const INDEX_ID = 'idx_test';

// Key generation and the WASM engine are the slow part; one of each per test file.
let shared: { engine: Engine; keys: KeyPair } | undefined;
function engineAndKeys(): { engine: Engine; keys: KeyPair } {
  shared ??= (() => {
    const engine = createEngine();
    return { engine, keys: generateKeyPair(engine, 1) };
  })();
  return shared;
}

/**
 * An honest index built from @rune/crypto: verifies permits and tickets with the Vault's key,
 * adds ciphertexts into blocks, scores, and signs results and receipts with its own key.
 * Tests make it dishonest by editing what it returns.
 */
export class TestIndex {
  readonly signer: Signer = createSigner(randomBytes(32));
  readonly blocks: Block[] = [];
  readonly stored = new Map<string, { bytes: Uint8Array; blockId: number; slot: number }>();

  constructor(
    readonly engine: Engine,
    readonly vaultPublicKey: Uint8Array,
    readonly now: () => number,
  ) {}

  #block(blockId: number): Block {
    for (let b = this.blocks.length; b <= blockId; b++) this.blocks.push(createBlock(this.engine, 1, DIM, b));
    return this.blocks[blockId]!;
  }

  insert(permit: unknown, encryptedVector: Uint8Array): Envelope<'insert-receipt'> {
    const p = verifyEnvelope('capture-permit', permit, importVerificationKey(this.vaultPublicKey), {
      now: this.now(),
    });
    const vector = parseEncryptedVector(encryptedVector, { paramSetId: p.paramSetId, dim: p.dim });
    addToBlock(this.engine, this.#block(p.blockId), vector, p.slot);
    this.stored.set(p.recordId, { bytes: encryptedVector, blockId: p.blockId, slot: p.slot });
    return this.signReceipt(permit, encryptedVector);
  }

  /** The receipt an index signs for `encryptedVector` in the permit's slot (tests make it lie). */
  signReceipt(permit: unknown, encryptedVector: Uint8Array): Envelope<'insert-receipt'> {
    const p = verifyEnvelope('capture-permit', permit, importVerificationKey(this.vaultPublicKey), {
      now: this.now(),
    });
    return signEnvelope(
      'insert-receipt',
      {
        v: 1,
        indexId: p.indexId,
        recordId: p.recordId,
        blockId: p.blockId,
        slot: p.slot,
        epoch: p.epoch,
        ciphertextSha256: hashBytes(encryptedVector),
      },
      this.signer,
    );
  }

  /** Scores every block the ticket fixes; returns the signed result and the serialised blocks. */
  search(
    ticket: unknown,
    queryBytes: Uint8Array,
    signer: Signer = this.signer,
  ): { result: Envelope<'search-result'>; blocks: Uint8Array[] } {
    const t = verifyEnvelope('search-ticket', ticket, importVerificationKey(this.vaultPublicKey), {
      now: this.now(),
    });
    assertQueryMatchesTicket(t, queryBytes);
    const blocks = Array.from({ length: t.expected.blockCount }, (_, b) => this.#block(b));
    const prepared = createPreparedQuery(this.engine, t.paramSetId, t.dim);
    preparePlainQuery(this.engine, prepared, bytesToFloat32(queryBytes));
    const outs = blocks.map(() => new Uint32Array(blockScoreWords(t.paramSetId)));
    scoreBlocks(this.engine, blocks, prepared, outs);
    const serialised = outs.map((data, blockId) =>
      serializeBlockScores({ paramSetId: t.paramSetId, blockId, data }),
    );
    return { result: this.signResult(t.ticketId, t.queryHash, serialised, signer), blocks: serialised };
  }

  signResult(
    ticketId: string,
    queryHash: string,
    blocks: readonly Uint8Array[],
    signer: Signer = this.signer,
    blockIds: readonly number[] = blocks.map((_, i) => i),
  ): Envelope<'search-result'> {
    return signEnvelope(
      'search-result',
      {
        v: 1,
        ticketId,
        indexId: INDEX_ID,
        epoch: 1,
        queryHash,
        blocks: blocks.map((bytes, i) => ({ blockId: blockIds[i] ?? i, sha256: hashBytes(bytes) })),
      },
      signer,
    );
  }
}

const openLogs: AuditLog[] = [];
afterEach(async () => {
  await Promise.all(openLogs.splice(0).map((log) => log.close()));
});

export async function setupVault() {
  const { engine, keys } = engineAndKeys();
  const dataDir = await tempDir();
  const clock = fakeClock();
  const registry = MemberRegistry.open({ dataDir, clock: clock.now });
  const audit = await AuditLog.open(join(dataDir, 'audit.log'), { clock: clock.now });
  openLogs.push(audit);
  const signingSeed = randomBytes(32);
  const vaultSigner = createSigner(signingSeed);
  const index = new TestIndex(engine, vaultSigner.publicKey, clock.now);
  const teamSecret = generateTeamSecret();
  const deps: SearchDeps = {
    keys: {
      paramSetId: 1,
      secretKey: keys.secretKey,
      publicKey: keys.publicKey,
      teamSecret,
      signer: vaultSigner,
      indexVerifyKeys: [index.signer.publicKey],
    },
    engine,
    registry,
    audit,
    dataDir,
    clock: clock.now,
  };
  const core: SearchCore = createSearchCore(deps);
  const admin = registry.addMember({ name: 'Admin', email: 'admin@example.com', role: 'admin' }).member;
  const alice = registry.addMember({ name: 'Alice', email: 'alice@example.com', role: 'member' }).member;
  const bob = registry.addMember({ name: 'Bob', email: 'bob@example.com', role: 'member' }).member;
  const reader = registry.addMember({ name: 'Rae', email: 'rae@example.com', role: 'reader' }).member;
  await core.registerIndex({ member: admin, indexId: INDEX_ID, dim: DIM });
  const entries = async (): Promise<AuditEntry[]> =>
    (await readFile(audit.path, 'utf8'))
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as AuditEntry);
  return {
    deps,
    signingSeed,
    engine,
    keys,
    dataDir,
    clock,
    registry,
    audit,
    core,
    index,
    teamSecret,
    admin,
    alice,
    bob,
    reader,
    entries,
  };
}

export type Vault = Awaited<ReturnType<typeof setupVault>>;

/** A member captures `vector` the way `rune mcp` would: permit, encrypt, insert. */
export async function capture(
  vault: Vault,
  member: Vault['alice'],
  vector: Float32Array,
): Promise<{ recordId: string; recordKey: Uint8Array }> {
  const grant = await vault.core.issueCapturePermit({ member, indexId: INDEX_ID });
  const ct = serializeEncryptedVector(encryptVector(vault.engine, vault.keys.publicKey, vector));
  vault.index.insert(grant.permit, ct);
  return { recordId: grant.recordId, recordKey: grant.recordKey };
}

/** Plants `count` canaries and inserts them honestly, confirming each receipt. */
export async function plantAndInsertCanaries(vault: Vault, count: number): Promise<string[]> {
  const planted = await vault.core.plantCanaries({ indexId: INDEX_ID, count });
  for (const c of planted) {
    const receipt = vault.index.insert(c.permit, c.encryptedVector);
    await vault.core.confirmCanaryInsert({ indexId: INDEX_ID, receipt });
  }
  return planted.map((c) => c.recordId);
}

export function unitVectors(count: number): Float32Array[] {
  return Array.from({ length: count }, () => randomUnitVector(DIM, (n) => randomBytes(n)));
}
