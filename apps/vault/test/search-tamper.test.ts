import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  encryptVector,
  getParamSet,
  parseBlockScores,
  serializeBlock,
  serializeBlockScores,
  serializeEncryptedVector,
} from '@rune/crypto';
import { createSigner, hashQuery } from '@rune/protocol';
import { plainQueryBytes } from '../src/search/index.js';
import type { VaultErrorCode } from '../src/errors.js';
import { caught, expectCode } from './helpers.js';
import {
  INDEX_ID,
  capture,
  plantAndInsertCanaries,
  setupVault,
  unitVectors,
  type Vault,
} from './search-harness.js';

/** A vault with records in two blocks (130 slots) and one canary, plus a fresh ticket for `query`. */
async function searched(vault: Vault, records = 3) {
  const vectors = unitVectors(records);
  for (const v of vectors) await capture(vault, vault.alice, v);
  await plantAndInsertCanaries(vault, 1);
  const query = vectors[0]!;
  const ticket = await vault.core.issueTicket({ member: vault.alice, indexId: INDEX_ID, query, k: 3 });
  const answer = vault.index.search(ticket, plainQueryBytes(query));
  return { query, ticket, ...answer };
}

async function expectRefusedAndAudited(vault: Vault, run: () => Promise<unknown>, code: VaultErrorCode) {
  const err = await caught(run);
  expectCode(err, code);
  const last = (await vault.entries()).at(-1);
  expect(last).toMatchObject({ actor: vault.alice.id, action: 'recall.open', outcome: 'denied' });
  return { err, reason: last?.reason ?? '' };
}

describe('openResult refuses a dishonest or replayed answer, and audits each refusal', () => {
  it('refuses a replayed ticket', async () => {
    const vault = await setupVault();
    const { ticket, result, blocks } = await searched(vault);
    await vault.core.openResult({ member: vault.alice, ticket, result, blocks });
    const { reason } = await expectRefusedAndAudited(
      vault,
      () => vault.core.openResult({ member: vault.alice, ticket, result, blocks }),
      'TICKET_REPLAYED',
    );
    expect(reason).toBe('ticket replayed');
  });

  it('refuses a ticket issued to another member, and one this Vault process never issued', async () => {
    const vault = await setupVault();
    const { ticket, result, blocks } = await searched(vault);
    const err = await caught(() => vault.core.openResult({ member: vault.bob, ticket, result, blocks }));
    expectCode(err, 'TICKET_INVALID');
    // A forged ticket (signed by another key) is refused before anything else.
    const forged = { ...ticket, signature: ticket.signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) };
    await expectRefusedAndAudited(
      vault,
      () => vault.core.openResult({ member: vault.alice, ticket: forged, result, blocks }),
      'TICKET_INVALID',
    );
    // The original still works: the refusals did not burn it.
    expect(await vault.core.openResult({ member: vault.alice, ticket, result, blocks })).toHaveLength(3);
  });

  it('refuses an expired ticket', async () => {
    const vault = await setupVault();
    const { ticket, result, blocks } = await searched(vault);
    vault.clock.advance(3 * 60_000);
    await expectRefusedAndAudited(
      vault,
      () => vault.core.openResult({ member: vault.alice, ticket, result, blocks }),
      'TICKET_INVALID',
    );
  });

  it('refuses a result signed by a key the Vault does not trust', async () => {
    const vault = await setupVault();
    const { query, ticket } = await searched(vault);
    const rogue = createSigner(randomBytes(32));
    const { result, blocks } = vault.index.search(ticket, plainQueryBytes(query), rogue);
    const { reason } = await expectRefusedAndAudited(
      vault,
      () => vault.core.openResult({ member: vault.alice, ticket, result, blocks }),
      'RESULT_REJECTED',
    );
    expect(reason).toMatch(/^KEY_MISMATCH/);
  });

  it('refuses a result whose signature does not cover the blocks (edited after signing)', async () => {
    const vault = await setupVault();
    const { ticket, result, blocks } = await searched(vault);
    const moved = result.payload.blocks.map((b) => ({ ...b, blockId: b.blockId + 5 }));
    const edited = { ...result, payload: { ...result.payload, blocks: moved } };
    await expectRefusedAndAudited(
      vault,
      () => vault.core.openResult({ member: vault.alice, ticket, result: edited, blocks }),
      'RESULT_REJECTED',
    );
  });

  it('refuses a stored block submitted as a score block', async () => {
    const vault = await setupVault();
    const { ticket, result } = await searched(vault);
    const t = ticket.payload;
    const stored = [serializeBlock(vault.index.blocks[0]!)];
    const signed = vault.index.signResult(t.ticketId, t.queryHash, stored);
    const { reason } = await expectRefusedAndAudited(
      vault,
      () => vault.core.openResult({ member: vault.alice, ticket, result: signed, blocks: stored }),
      'RESULT_REJECTED',
    );
    expect(reason).toMatch(/^block 0: /);
    expect(result.payload.blocks).toHaveLength(1);
  });

  it('refuses a reshaped result: a block missing, a block extra, or a block renumbered', async () => {
    const vault = await setupVault();
    const { query, blocks } = await searched(vault);
    const shapes: { blocks: Uint8Array[]; signed?: Uint8Array[]; ids?: number[] }[] = [
      { blocks: [] },
      { blocks: [blocks[0]!, blocks[0]!], ids: [0, 1] },
      { blocks: [blocks[0]!], ids: [1] },
      // The signed result is intact, but fewer blocks travel beside it than it signs.
      { blocks: [], signed: blocks },
    ];
    for (const shape of shapes) {
      // Each attempt consumes its ticket (single use comes before the shape checks).
      const ticket = await vault.core.issueTicket({ member: vault.alice, indexId: INDEX_ID, query, k: 3 });
      const t = ticket.payload;
      const signed = vault.index.signResult(
        t.ticketId,
        t.queryHash,
        shape.signed ?? shape.blocks,
        undefined,
        shape.ids,
      );
      const { reason } = await expectRefusedAndAudited(
        vault,
        () => vault.core.openResult({ member: vault.alice, ticket, result: signed, blocks: shape.blocks }),
        'RESULT_REJECTED',
      );
      expect(reason).toMatch(/RESULT_SHAPE_MISMATCH|at position/);
    }
  });

  it('refuses a result for another query', async () => {
    const vault = await setupVault();
    const { ticket, blocks } = await searched(vault);
    const other = hashQuery(plainQueryBytes(unitVectors(1)[0]!));
    const signed = vault.index.signResult(ticket.payload.ticketId, other, blocks);
    await expectRefusedAndAudited(
      vault,
      () => vault.core.openResult({ member: vault.alice, ticket, result: signed, blocks }),
      'RESULT_REJECTED',
    );
  });

  it('refuses out-of-range scores from a tampered (re-signed) block', async () => {
    const vault = await setupVault();
    const { ticket, blocks } = await searched(vault);
    // Replace residues with random ones below their primes: a well-formed block of garbage scores
    // (flipping packed bits could instead make a residue ≥ its prime, a malformed block).
    const scores = parseBlockScores(blocks[0]!);
    const { primes } = getParamSet(scores.paramSetId);
    const perPrime = scores.data.length / primes.length;
    // Uniform residues decode to scores spread over about [-4, 4]: all 128 in range has odds ~4^-128.
    scores.data.forEach((_, i) => {
      scores.data[i] = Math.floor(Math.random() * primes[Math.floor(i / perPrime)]!);
    });
    const tampered = serializeBlockScores(scores);
    const signed = vault.index.signResult(ticket.payload.ticketId, ticket.payload.queryHash, [tampered]);
    const { reason } = await expectRefusedAndAudited(
      vault,
      () => vault.core.openResult({ member: vault.alice, ticket, result: signed, blocks: [tampered] }),
      'SCORE_OUT_OF_RANGE',
    );
    expect(reason).toContain('block 0');
  });

  it('refuses a result when the index swapped a canary’s ciphertext', async () => {
    const vault = await setupVault();
    const vectors = unitVectors(3);
    for (const v of vectors) await capture(vault, vault.alice, v);
    const query = vectors[0]!;
    // The dishonest index stores the query's own direction in the canary's slot: in range, wrong score.
    const [canary] = await vault.core.plantCanaries({ indexId: INDEX_ID, count: 1 });
    const swapped = serializeEncryptedVector(encryptVector(vault.engine, vault.keys.publicKey, query));
    vault.index.insert(canary!.permit, swapped);
    // Its honest receipt names other bytes than the Vault made, so it cannot arm the canary …
    const honest = vault.index.signReceipt(canary!.permit, swapped);
    expectCode(
      await caught(() => vault.core.confirmCanaryInsert({ indexId: INDEX_ID, receipt: honest })),
      'RESULT_REJECTED',
    );
    // … so this index lies in its receipt too, naming the genuine bytes.
    const lie = vault.index.signReceipt(canary!.permit, canary!.encryptedVector);
    await vault.core.confirmCanaryInsert({ indexId: INDEX_ID, receipt: lie });
    const ticket = await vault.core.issueTicket({ member: vault.alice, indexId: INDEX_ID, query, k: 3 });
    const { result, blocks } = vault.index.search(ticket, plainQueryBytes(query));
    const { reason } = await expectRefusedAndAudited(
      vault,
      () => vault.core.openResult({ member: vault.alice, ticket, result, blocks }),
      'CANARY_MISMATCH',
    );
    expect(reason).toMatch(/^canary in block 0 deviates by/);
  });
});
