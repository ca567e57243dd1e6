import { describe, expect, it } from 'vitest';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openRecord, sealRecord } from '@rune/crypto';
import { createSigner, importVerificationKey, verifyEnvelope } from '@rune/protocol';
import { RateLimiter } from '../src/rate-limiter.js';
import { createSearchCore, plainQueryBytes, type SearchEvent } from '../src/search/index.js';
import { caught, expectCode } from './helpers.js';
import {
  DIM,
  INDEX_ID,
  capture,
  plantAndInsertCanaries,
  setupVault,
  unitVectors,
  type Vault,
} from './search-harness.js';

async function recall(vault: Vault, member: Vault['alice'], query: Float32Array, k = 3) {
  const ticket = await vault.core.issueTicket({ member, indexId: INDEX_ID, query, k });
  const { result, blocks } = vault.index.search(ticket, plainQueryBytes(query));
  return vault.core.openResult({ member, ticket, result, blocks });
}

describe('search core: capture → search → open', () => {
  it('finds a captured record with its key, and only ids, rounded scores and keys come back', async () => {
    const vault = await setupVault();
    const vectors = unitVectors(5);
    const captured = [];
    for (const v of vectors) captured.push(await capture(vault, vault.alice, v));
    await plantAndInsertCanaries(vault, 1);

    const hits = await recall(vault, vault.alice, vectors[2]!, 3);
    expect(hits).toHaveLength(3);
    expect(hits[0]!.recordId).toBe(captured[2]!.recordId);
    expect(hits[0]!.score).toBeCloseTo(1, 2);
    expect(Object.keys(hits[0]!).sort()).toEqual(['recordId', 'recordKey', 'score']);
    for (const h of hits) expect(Math.round(h.score * 1000) / 1000).toBe(h.score);
    expect(Buffer.from(hits[0]!.recordKey).equals(Buffer.from(captured[2]!.recordKey))).toBe(true);

    // The released key opens what the capturer sealed with the key it was given.
    const sealed = sealRecord({
      key: captured[2]!.recordKey,
      indexId: INDEX_ID,
      recordId: captured[2]!.recordId,
      keyVersion: 1,
      plaintext: new TextEncoder().encode('we chose Postgres'),
    });
    const opened = openRecord({
      key: hits[0]!.recordKey,
      indexId: INDEX_ID,
      recordId: hits[0]!.recordId,
      keyVersion: 1,
      sealed,
    });
    expect(new TextDecoder().decode(opened)).toBe('we chose Postgres');
  });

  it('issues a permit the index accepts: this index, dimension, epoch and the next sequential slot', async () => {
    const vault = await setupVault();
    const a = await vault.core.issueCapturePermit({ member: vault.alice, indexId: INDEX_ID });
    const b = await vault.core.issueCapturePermit({ member: vault.alice, indexId: INDEX_ID });
    expect(a.recordKey).toHaveLength(32);
    expect(a.recordId).toMatch(/^rec_[A-Za-z0-9_-]{16}$/);
    expect(a.permit.payload).toMatchObject({
      indexId: INDEX_ID,
      recordId: a.recordId,
      dim: DIM,
      epoch: 1,
      blockId: 0,
      slot: 0,
    });
    expect(b.permit.payload).toMatchObject({ blockId: 0, slot: 1 });
    expect(a.permit.payload.expiresAt - a.permit.payload.issuedAt).toBeLessThanOrEqual(5 * 60_000);
  });

  it('lets a second member find the team’s records', async () => {
    const vault = await setupVault();
    const vectors = unitVectors(3);
    const mine = await capture(vault, vault.alice, vectors[0]!);
    await capture(vault, vault.alice, vectors[1]!);
    const hits = await recall(vault, vault.bob, vectors[0]!, 1);
    expect(hits.map((h) => h.recordId)).toEqual([mine.recordId]);
    expect(Buffer.from(hits[0]!.recordKey).equals(Buffer.from(mine.recordKey))).toBe(true);
    // A reader may recall too.
    expect((await recall(vault, vault.reader, vectors[0]!, 1))[0]!.recordId).toBe(mine.recordId);
  });

  it('never returns canaries, even when the query is a canary’s own direction', async () => {
    const vault = await setupVault();
    await capture(vault, vault.alice, unitVectors(1)[0]!);
    const canaryIds = await plantAndInsertCanaries(vault, 3);
    const hits = await recall(vault, vault.alice, unitVectors(1)[0]!, 10);
    expect(hits).toHaveLength(1);
    expect(hits.some((h) => canaryIds.includes(h.recordId))).toBe(false);
  });

  it('refuses capture to a reader, and audits it', async () => {
    const vault = await setupVault();
    const err = await caught(() =>
      vault.core.issueCapturePermit({ member: vault.reader, indexId: INDEX_ID }),
    );
    expectCode(err, 'FORBIDDEN');
    expect((await vault.entries()).at(-1)).toMatchObject({
      actor: vault.reader.id,
      action: 'capture.permit',
      outcome: 'denied',
      reason: 'role "reader" lacks capability "capture"',
    });
  });

  it('refuses a revoked member even when the edge passes a stale member object', async () => {
    const vault = await setupVault();
    vault.registry.revokeMember(vault.alice.id);
    const err = await caught(() => vault.core.issueCapturePermit({ member: vault.alice, indexId: INDEX_ID }));
    expectCode(err, 'UNAUTHENTICATED');
  });

  it('refuses top-k above the role cap (not clamped), and audits it', async () => {
    const vault = await setupVault();
    const err = await caught(() =>
      vault.core.issueTicket({ member: vault.alice, indexId: INDEX_ID, query: unitVectors(1)[0]!, k: 11 }),
    );
    expectCode(err, 'TOP_K_ABOVE_CAP');
    expect(err.message).toContain('cap of 10');
    expect((await vault.entries()).at(-1)).toMatchObject({ action: 'recall.ticket', outcome: 'denied' });
    // The admin role's cap is higher.
    await vault.core.issueTicket({
      member: vault.admin,
      indexId: INDEX_ID,
      query: unitVectors(1)[0]!,
      k: 50,
    });
  });

  it('fixes the expected shape in the ticket: blocks allocated so far and the score words per block', async () => {
    const vault = await setupVault();
    await capture(vault, vault.alice, unitVectors(1)[0]!);
    const ticket = await vault.core.issueTicket({
      member: vault.alice,
      indexId: INDEX_ID,
      query: unitVectors(1)[0]!,
      k: 5,
    });
    const t = verifyEnvelope('search-ticket', ticket, importVerificationKey(vault.index.vaultPublicKey), {
      now: vault.clock.now(),
    });
    expect(t.expected).toEqual({ blockCount: 1, wordsPerBlock: 8448 });
    expect(t.k).toBe(5);
  });

  it('refuses a query that is not a unit vector of the index dimension', async () => {
    const vault = await setupVault();
    const err1 = await caught(() =>
      vault.core.issueTicket({ member: vault.alice, indexId: INDEX_ID, query: new Float32Array(DIM), k: 1 }),
    );
    const err2 = await caught(() =>
      vault.core.issueTicket({
        member: vault.alice,
        indexId: INDEX_ID,
        query: new Float32Array(DIM * 2).fill(0.125),
        k: 1,
      }),
    );
    expectCode(err1, 'INVALID_REQUEST');
    expectCode(err2, 'INVALID_REQUEST');
  });
});

describe('search core: forget', () => {
  it('tombstones a record so it is never returned, and destroys its nonce', async () => {
    const vault = await setupVault();
    const vectors = unitVectors(3);
    const gone = await capture(vault, vault.alice, vectors[0]!);
    const kept = await capture(vault, vault.alice, vectors[1]!);
    const out = await vault.core.forgetRecord({
      member: vault.alice,
      indexId: INDEX_ID,
      recordId: gone.recordId,
    });
    expect(out).toMatchObject({ recordId: gone.recordId, blockId: 0, slot: 0, wasLive: true });
    // The index accepts only a Vault-signed delete-permit naming exactly this record.
    const permit = verifyEnvelope(
      'delete-permit',
      out.deletePermit,
      importVerificationKey(vault.index.vaultPublicKey),
      { now: vault.clock.now() },
    );
    expect(permit).toMatchObject({ indexId: INDEX_ID, recordId: gone.recordId });

    const hits = await recall(vault, vault.alice, vectors[0]!, 10);
    expect(hits.map((h) => h.recordId)).toEqual([kept.recordId]);

    // The durable ledger no longer holds anything K_r could be derived from.
    const ledgerPath = join(vault.dataDir, 'search', `ledger-${INDEX_ID}.json`);
    const ledger = JSON.parse(await readFile(ledgerPath, 'utf8')) as {
      records: { recordId: string; nonce?: string; status: string }[];
    };
    const rec = ledger.records.find((r) => r.recordId === gone.recordId);
    expect(rec).toMatchObject({ status: 'tombstoned' });
    expect(rec?.nonce).toBeUndefined();
    expect((await stat(ledgerPath)).mode & 0o777).toBe(0o600);
    expect((await vault.entries()).find((e) => e.action === 'forget')).toMatchObject({
      outcome: 'allowed',
      actor: vault.alice.id,
    });

    // Forgetting again is harmless.
    expect(
      (await vault.core.forgetRecord({ member: vault.alice, indexId: INDEX_ID, recordId: gone.recordId }))
        .wasLive,
    ).toBe(false);
  });

  it('lets only the author or an admin forget; a canary looks like an unknown record', async () => {
    const vault = await setupVault();
    const rec = await capture(vault, vault.alice, unitVectors(1)[0]!);
    const [canaryId] = await plantAndInsertCanaries(vault, 1);
    expectCode(
      await caught(() =>
        vault.core.forgetRecord({ member: vault.bob, indexId: INDEX_ID, recordId: rec.recordId }),
      ),
      'FORBIDDEN',
    );
    expectCode(
      await caught(() =>
        vault.core.forgetRecord({ member: vault.admin, indexId: INDEX_ID, recordId: canaryId! }),
      ),
      'NOT_FOUND',
    );
    expectCode(
      await caught(() =>
        vault.core.forgetRecord({ member: vault.admin, indexId: INDEX_ID, recordId: 'rec_nope' }),
      ),
      'NOT_FOUND',
    );
    await vault.core.forgetRecord({ member: vault.admin, indexId: INDEX_ID, recordId: rec.recordId });
    const denied = (await vault.entries()).filter((e) => e.action === 'forget' && e.outcome === 'denied');
    expect(denied).toHaveLength(3);
  });
});

describe('search core: ledger persistence', () => {
  function reopen(vault: Vault, onEvent?: (e: SearchEvent) => void) {
    return createSearchCore({
      keys: {
        paramSetId: 1,
        secretKey: vault.keys.secretKey,
        publicKey: vault.keys.publicKey,
        teamSecret: vault.teamSecret,
        signer: createSigner(new Uint8Array(32).fill(7)),
        indexVerifyKeys: [vault.index.signer.publicKey],
      },
      engine: vault.engine,
      registry: vault.registry,
      audit: vault.audit,
      dataDir: vault.dataDir,
      clock: vault.clock.now,
      ...(onEvent === undefined ? {} : { onEvent }),
    });
  }

  it('continues slot allocation after a restart', async () => {
    const vault = await setupVault();
    await capture(vault, vault.alice, unitVectors(1)[0]!);
    const grant = await reopen(vault).issueCapturePermit({ member: vault.alice, indexId: INDEX_ID });
    expect(grant.permit.payload.slot).toBe(1);
  });

  it('refuses a ticket issued before a restart (pending tickets live in memory only)', async () => {
    const vault = await setupVault();
    const query = unitVectors(1)[0]!;
    await capture(vault, vault.alice, query);
    const ticket = await vault.core.issueTicket({ member: vault.alice, indexId: INDEX_ID, query, k: 1 });
    const { result, blocks } = vault.index.search(ticket, plainQueryBytes(query));
    // Same signing key after the restart, so only the lost pending entry refuses it.
    const restarted = createSearchCore(vault.deps);
    const err = await caught(() => restarted.openResult({ member: vault.alice, ticket, result, blocks }));
    expectCode(err, 'TICKET_INVALID');
    expect(err.reason).toBe('ticket not issued by this Vault process');
  });

  it('applies the role rate limit to tickets when given a limiter', async () => {
    const vault = await setupVault();
    const core = createSearchCore({ ...vault.deps, limiter: new RateLimiter({ clock: vault.clock.now }) });
    const query = unitVectors(1)[0]!;
    for (let i = 0; i < 30; i++)
      await core.issueTicket({ member: vault.alice, indexId: INDEX_ID, query, k: 1 });
    const err = await caught(() => core.issueTicket({ member: vault.alice, indexId: INDEX_ID, query, k: 1 }));
    expectCode(err, 'RATE_LIMITED');
    expect(err.retryAfterMs).toBeGreaterThan(0);
  });

  it('refuses a corrupted ledger instead of starting an empty one', async () => {
    const vault = await setupVault();
    const [first, second] = unitVectors(2);
    await capture(vault, vault.alice, first!);
    // A forget folds the journal into the snapshot, so the live record is in the file edited below.
    const gone = await capture(vault, vault.alice, second!);
    await vault.core.forgetRecord({ member: vault.alice, indexId: INDEX_ID, recordId: gone.recordId });
    const path = join(vault.dataDir, 'search', `ledger-${INDEX_ID}.json`);
    const ledger = JSON.parse(await readFile(path, 'utf8')) as {
      records: { nonce?: string; status: string }[];
    };
    // A tombstoned record that still holds a nonce would undo crypto-shredding.
    ledger.records[0]!.status = 'tombstoned';
    await writeFile(path, JSON.stringify(ledger));
    const err = await caught(() =>
      reopen(vault).issueCapturePermit({ member: vault.alice, indexId: INDEX_ID }),
    );
    expectCode(err, 'STATE_CORRUPT');
  });

  it('refuses an index id that could escape the data directory', async () => {
    const vault = await setupVault();
    const err = await caught(() =>
      vault.core.issueCapturePermit({ member: vault.alice, indexId: '../evil' }),
    );
    expectCode(err, 'INVALID_REQUEST');
  });

  it('reports bounded events for metrics', async () => {
    const vault = await setupVault();
    const events: SearchEvent[] = [];
    const core = reopen(vault, (e) => events.push(e));
    await core.issueCapturePermit({ member: vault.alice, indexId: INDEX_ID });
    await caught(() => core.issueCapturePermit({ member: vault.reader, indexId: INDEX_ID }));
    expect(events).toEqual([
      { type: 'permit.issued' },
      { type: 'refused', action: 'capture.permit', code: 'FORBIDDEN' },
    ]);
  });
});

describe('search core: canaries', () => {
  it('plants about one canary per block and checks a canary only once the index confirmed it', async () => {
    const vault = await setupVault();
    expect(vault.core.canaryDeficit(INDEX_ID)).toBe(1);
    const vectors = unitVectors(2);
    for (const v of vectors) await capture(vault, vault.alice, v);
    // Planted but never inserted: its slot scores ~0, yet search must not fail on it.
    const [pending] = await vault.core.plantCanaries({ indexId: INDEX_ID });
    expect(pending!.sealed[0]).toBe(1);
    expect(vault.core.canaryDeficit(INDEX_ID)).toBe(0);
    expect(await recall(vault, vault.alice, vectors[0]!, 2)).toHaveLength(2);
  });
});
