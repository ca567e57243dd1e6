import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createEngine, generateKeyPair, generateTeamSecret, type Engine } from '@rune/crypto';
import { createIndexApp, createIndexService, openEmbeddedStore } from '@rune/index';
import { createSigner, encodeBase64url, importVerificationKey } from '@rune/protocol';
import {
  AuditLog,
  MemberRegistry,
  createSearchCore,
  createVaultApp,
  createVaultMetrics,
  publishKey,
} from '@rune/vault';
import { afterEach } from 'vitest';
import type { MemberConfig } from '../src/index.js';
import { startServer, tempDir } from './helpers.js';

export const INDEX_ID = 'team_main';
export const DIM = 384;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

let engine: Engine | undefined;

/**
 * A real Vault and a real index (their cores and HTTP adapters, in this process, on 127.0.0.1),
 * with one admin and two members, and the member configs a `rune team add` would hand out.
 */
export async function startStack() {
  engine ??= createEngine();
  const keys = generateKeyPair(engine, 1);
  const signingSeed = randomBytes(32);
  const vaultSigner = createSigner(signingSeed);
  const indexSigner = createSigner(randomBytes(32));
  const published = publishKey({
    paramSetId: 1,
    secretKey: keys.secretKey,
    publicKey: keys.publicKey,
    teamSecret: generateTeamSecret(),
    signingSeed,
    createdAt: 0,
  });

  const vaultDir = await tempDir();
  const registry = MemberRegistry.open({ dataDir: vaultDir });
  const audit = await AuditLog.open(join(vaultDir, 'audit.log'));
  closers.push(() => audit.close());
  const core = createSearchCore({
    keys: {
      paramSetId: 1,
      secretKey: keys.secretKey,
      publicKey: keys.publicKey,
      teamSecret: generateTeamSecret(),
      signer: vaultSigner,
      indexVerifyKeys: [indexSigner.publicKey],
    },
    engine,
    registry,
    audit,
    dataDir: vaultDir,
  });
  const admin = registry.addMember({ name: 'Admin', email: 'admin@example.com', role: 'admin' }).member;
  const alice = registry.addMember({ name: 'Alice', email: 'alice@example.com', role: 'member' });
  const bob = registry.addMember({ name: 'Bob', email: 'bob@example.com', role: 'member' });
  await core.registerIndex({ member: admin, indexId: INDEX_ID, dim: DIM });
  const vaultUrl = await startServer(
    createVaultApp({
      registry,
      audit,
      search: core,
      metrics: createVaultMetrics(),
      publishedKey: published,
      dataDir: vaultDir,
      keysAccessible: () => Promise.resolve(true),
      version: 'test',
      healthThresholdPercent: 101,
    }),
  );

  const indexDir = await tempDir();
  const store = await openEmbeddedStore({ dataDir: indexDir });
  const service = createIndexService({
    store,
    engine,
    signer: indexSigner,
    vaultVerifyKeys: [importVerificationKey(vaultSigner.publicKey)],
    clock: Date.now,
  });
  closers.push(async () => {
    await service.close();
    await store.close();
  });
  await service.createIndex({
    indexId: INDEX_ID,
    paramSetId: 1,
    dim: DIM,
    embedderId: `lexical-hash-v1-d${DIM}`,
  });
  const indexUrl = await startServer(
    createIndexApp({ service, store, dataDir: indexDir, operatorToken: `rune_${'o'.repeat(43)}` }),
  );

  const configOf = (token: string, memberId: string, name: string): MemberConfig => ({
    version: 1,
    vaultUrl,
    indexUrl,
    indexId: INDEX_ID,
    token,
    publicKeyHash: published.publicKeyHash,
    vaultKeyId: published.keyId,
    indexVerifyKey: encodeBase64url(indexSigner.publicKey),
    memberId,
    name,
    embedder: { id: `lexical-hash-v1-d${DIM}`, dim: DIM },
  });
  return {
    engine,
    indexSigner,
    alice: configOf(alice.token, alice.member.id, 'Alice'),
    bob: configOf(bob.token, bob.member.id, 'Bob'),
  };
}
