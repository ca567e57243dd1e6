import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RuneClient, float32ToLeBytes } from '@rune/client';
import {
  createBlock,
  createEngine,
  encryptVector,
  getParamSet,
  parseBlockScores,
  parsePublicKey,
  serializeBlock,
  serializeBlockScores,
  serializeEncryptedVector,
} from '@rune/crypto';
import {
  type SearchResult,
  type SearchTicket,
  type Signer,
  createSigner,
  decodeBase64url,
  encodeBase64url,
  hashBytes,
  signEnvelope,
  verifyEnvelope,
} from '@rune/protocol';
import type { RefusalReason } from '@rune/vault';
import {
  DIM,
  INDEX_ID,
  type HttpAnswer,
  ProcessStack,
  randomUnitVector,
  waitFor,
} from './process-harness.js';

/**
 * The test plays a hostile or compromised index talking to a real Vault process: it takes genuine
 * tickets and genuine index answers, bends them, and submits them to POST /v1/results. Every bent
 * answer must be refused with a 4xx JSON error, audited as denied with its precise reason, and
 * counted in vault_refusals_total — and none of it may stop an honest recall from working.
 */

/** What the index hands back for one ticket, plus the pieces a forger needs. */
interface Searched {
  readonly query: Float32Array;
  readonly ticket: unknown;
  readonly ticketPayload: SearchTicket;
  readonly result: unknown;
  readonly resultPayload: SearchResult;
  readonly blocks: Uint8Array[];
}

interface Refusal {
  readonly status: number;
  readonly code: string;
  /** The bounded vault_refusals_total label (apps/vault/src/http/metrics.ts REFUSAL_OF). */
  readonly metric: RefusalReason;
  /** The precise reason the audit log must hold (and the response must not). */
  readonly reason: RegExp;
}

const REFUSED = {
  replay: { status: 409, code: 'TICKET_REPLAYED', metric: 'replay', reason: /^ticket replayed$/ },
  resultRejected: (reason: RegExp): Refusal => ({
    status: 422,
    code: 'RESULT_REJECTED',
    metric: 'signature',
    reason,
  }),
  range: {
    status: 422,
    code: 'SCORE_OUT_OF_RANGE',
    metric: 'range',
    reason: /^block 0: a score lies outside \[-1\.01, 1\.01\]$/,
  },
  canary: {
    status: 422,
    code: 'CANARY_MISMATCH',
    metric: 'canary',
    reason: /^canary in block \d+ deviates by /,
  },
} as const satisfies Record<string, Refusal | ((reason: RegExp) => Refusal)>;

let stack: ProcessStack;
let client: RuneClient;
/** SECURITY (test only): the real index's signing key, read from its data directory — a compromised index. */
let indexSigner: Signer;
const captured: { recordId: string; vector: Float32Array; insight: string }[] = [];

beforeAll(async () => {
  stack = await ProcessStack.start();
  client = await stack.connect();
  for (let i = 0; i < 4; i++) {
    const vector = randomUnitVector();
    const insight = `attack fixture ${i}`;
    const outcome = await client.captureVector(vector, { v: 1, insight, createdAt: Date.now() });
    captured.push({ recordId: outcome.recordId, vector, insight });
  }
  // The first permit pokes the Vault's canary keeper; the canary counts only once the index's receipt arms it.
  await waitFor('an armed canary', async () =>
    (await stack.auditEntries()).some((e) => e.action === 'canary.confirm' && e.outcome === 'allowed'),
  );
  indexSigner = createSigner(await readFile(join(stack.indexDir, 'index-signing.seed')));
}, 120_000);

afterAll(async () => {
  try {
    client.close();
  } finally {
    await stack.stop();
  }
}, 30_000);

/** A genuine ticket from the Vault and the real index's genuine answer to it. */
async function searchGenuine(query: Float32Array = randomUnitVector(), k = 3): Promise<Searched> {
  const queryText = encodeBase64url(float32ToLeBytes(query));
  const issued = await stack.vaultPost('/v1/tickets', { indexId: INDEX_ID, query: queryText, k });
  expect(issued.status, JSON.stringify(issued.body)).toBe(200);
  const ticket = (issued.body as { ticket: unknown }).ticket;
  const answer = await stack.indexPost(`/v1/indexes/${INDEX_ID}/search`, { ticket, query: queryText });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const { result, blocks } = answer.body as { result: unknown; blocks: string[] };
  const now = { now: Date.now() };
  return {
    query,
    ticket,
    ticketPayload: verifyEnvelope('search-ticket', ticket, stack.verifyKeys.vault, now),
    result,
    resultPayload: verifyEnvelope('search-result', result, stack.verifyKeys.index, now),
    blocks: blocks.map((b) => decodeBase64url(b)),
  };
}

/** A result over `blocks` signed by `signer`, hashes recomputed: what a compromised index can mint. */
function resign(
  payload: SearchResult,
  blocks: readonly Uint8Array[],
  signer: Signer = indexSigner,
  overrides: Partial<SearchResult> = {},
) {
  return signEnvelope(
    'search-result',
    {
      ...payload,
      blocks: blocks.map((bytes, blockId) => ({ blockId, sha256: hashBytes(bytes) })),
      ...overrides,
    },
    signer,
  );
}

function submit(ticket: unknown, result: unknown, blocks: readonly Uint8Array[]): Promise<HttpAnswer> {
  return stack.vaultPost('/v1/results', { ticket, result, blocks: blocks.map((b) => encodeBase64url(b)) });
}

/** Sends one attack and checks the refusal, its audit entry and its metric. */
async function expectRefused(send: () => Promise<HttpAnswer>, refusal: Refusal): Promise<void> {
  const counted = await stack.vaultMetric('vault_refusals_total', { reason: refusal.metric });
  const seen = (await stack.auditEntries()).length;
  const answer = await send();
  expect(answer.status).toBe(refusal.status);
  expect(answer.body).toEqual({ error: { code: refusal.code, message: expect.any(String) as unknown } });
  // SECURITY: the precise reason is for the audit log only.
  expect(JSON.stringify(answer.body)).not.toMatch(refusal.reason);
  const fresh = (await stack.auditEntries()).slice(seen);
  expect(fresh).toContainEqual(
    expect.objectContaining({
      actor: stack.memberId,
      action: 'recall.open',
      outcome: 'denied',
      target: INDEX_ID,
      reason: expect.stringMatching(refusal.reason) as unknown,
    }),
  );
  expect(await stack.vaultMetric('vault_refusals_total', { reason: refusal.metric })).toBe(counted + 1);
}

async function expectOpens(searched: Searched, ticket: unknown = searched.ticket): Promise<void> {
  const answer = await submit(ticket, searched.result, searched.blocks);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect((answer.body as { hits: unknown[] }).hits.length).toBeGreaterThan(0);
}

describe('a hostile index answering a real Vault is refused, audited and counted', () => {
  it('refuses a replayed ticket: the first opening succeeds, the second is refused', async () => {
    const searched = await searchGenuine();
    await expectOpens(searched);
    await expectRefused(() => submit(searched.ticket, searched.result, searched.blocks), REFUSED.replay);
  });

  it('refuses a result signed by a key it does not trust, without burning the ticket', async () => {
    const searched = await searchGenuine();
    const rogue = createSigner(randomBytes(32));
    const forged = resign(searched.resultPayload, searched.blocks, rogue);
    await expectRefused(
      () => submit(searched.ticket, forged, searched.blocks),
      REFUSED.resultRejected(/^KEY_MISMATCH: /),
    );
    // The rogue signature under the real index's key id: the signature itself fails.
    await expectRefused(
      () => submit(searched.ticket, { ...forged, keyId: indexSigner.keyId }, searched.blocks),
      REFUSED.resultRejected(/^SIGNATURE_INVALID: /),
    );
    // The honest answer still opens: a forger cannot spend a member's ticket.
    await expectOpens(searched);
  });

  it('refuses stored ciphertexts submitted as block scores, even signed by the real index key', async () => {
    const engine = createEngine();
    const published = JSON.parse(await readFile(join(stack.vaultDir, 'published-key.json'), 'utf8')) as {
      publicKey: string;
    };
    const publicKey = parsePublicKey(decodeBase64url(published.publicKey));
    const storedVector = serializeEncryptedVector(encryptVector(engine, publicKey, randomUnitVector()));
    const storedBlock = serializeBlock(createBlock(engine, 1, DIM, 0));
    for (const bytes of [storedVector, storedBlock]) {
      const searched = await searchGenuine();
      await expectRefused(
        () => submit(searched.ticket, resign(searched.resultPayload, [bytes]), [bytes]),
        REFUSED.resultRejected(/^block 0: [A-Z_]+: /),
      );
    }
    // Genuine score bytes relabelled as a Block: the right length, the wrong kind.
    const searched = await searchGenuine();
    const relabelled = Uint8Array.from(searched.blocks[0]!);
    relabelled[4] = storedBlock[4]!;
    await expectRefused(
      () => submit(searched.ticket, resign(searched.resultPayload, [relabelled]), [relabelled]),
      REFUSED.resultRejected(/^block 0: [A-Z_]+: /),
    );
  });

  it('refuses reshaped results: a dropped block, an extra block, unsigned blocks, missing words', async () => {
    const dropped = await searchGenuine();
    expect(dropped.blocks).toHaveLength(1);
    await expectRefused(
      () => submit(dropped.ticket, resign(dropped.resultPayload, []), []),
      REFUSED.resultRejected(/^RESULT_SHAPE_MISMATCH: the ticket fixed 1 blocks, the result has 0$/),
    );

    const extra = await searchGenuine();
    const second = serializeBlockScores({ ...parseBlockScores(extra.blocks[0]!), blockId: 1 });
    const twoBlocks = [extra.blocks[0]!, second];
    await expectRefused(
      () => submit(extra.ticket, resign(extra.resultPayload, twoBlocks), twoBlocks),
      REFUSED.resultRejected(/^RESULT_SHAPE_MISMATCH: the ticket fixed 1 blocks, the result has 2$/),
    );

    // The genuine signed result, with a block it never signed pushed in beside it.
    const unsigned = await searchGenuine();
    await expectRefused(
      () => submit(unsigned.ticket, unsigned.result, [...unsigned.blocks, second]),
      REFUSED.resultRejected(/^RESULT_SHAPE_MISMATCH: the result signs 1 blocks, 2 arrived$/),
    );

    const truncated = await searchGenuine();
    const short = truncated.blocks[0]!.subarray(0, truncated.blocks[0]!.byteLength - 13);
    await expectRefused(
      () => submit(truncated.ticket, resign(truncated.resultPayload, [short]), [short]),
      REFUSED.resultRejected(/^block 0: MALFORMED_INPUT: /),
    );
  });

  it('refuses scores that decrypt outside [-1.01, 1.01]', async () => {
    const searched = await searchGenuine();
    const scores = parseBlockScores(searched.blocks[0]!);
    // Uniform residues decode to scores spread over about [-4, 4]: all 128 in range has odds ~4^-128.
    const { primes } = getParamSet(scores.paramSetId);
    const perPrime = scores.data.length / primes.length;
    scores.data.forEach((_, i) => {
      scores.data[i] = Math.floor(Math.random() * primes[Math.floor(i / perPrime)]!);
    });
    const forged = [serializeBlockScores(scores)];
    await expectRefused(
      () => submit(searched.ticket, resign(searched.resultPayload, forged), forged),
      REFUSED.range,
    );
  });

  it('refuses in-range scores of another query when a secret canary does not match', async () => {
    // The attacker does not know the canary; the test reads it only to pick a query the canary
    // answers strongly (~0.7), so the substituted answer misses it by far more than the tolerance.
    // The ledger is a snapshot plus a journal of allocations and confirmations since it.
    type Canary = { recordId: string; canary?: { vector: string; isConfirmed: boolean } };
    const ledgerPath = join(stack.vaultDir, 'search', `ledger-${INDEX_ID}`);
    const snapshot = JSON.parse(await readFile(`${ledgerPath}.json`, 'utf8')) as { records: Canary[] };
    const journal = (await readFile(`${ledgerPath}.journal`, 'utf8'))
      .split('\n')
      .filter((line) => line !== '')
      .map(
        (line) =>
          (JSON.parse(line) as { entry: { op: string; records?: Canary[]; recordId?: string } }).entry,
      );
    const confirmed = new Set(journal.map((e) => (e.op === 'confirm' ? e.recordId : undefined)));
    const armed = [...snapshot.records, ...journal.flatMap((e) => e.records ?? [])].find(
      (r) => r.canary?.isConfirmed === true || confirmed.has(r.recordId),
    )?.canary;
    expect(armed).toBeDefined();
    const canaryBytes = Buffer.from(armed!.vector, 'base64url');
    const canary = new Float32Array(DIM);
    canary.forEach((_, i) => (canary[i] = canaryBytes.readFloatLE(i * 4)));
    const noise = randomUnitVector();
    const query = Float32Array.from(canary, (c, i) => c + noise[i]!);
    const norm = Math.hypot(...query);
    query.forEach((x, i) => (query[i] = x / norm));

    const target = await searchGenuine(query);
    const other = await searchGenuine(randomUnitVector());
    // The other query's genuine scores, bound to this ticket and query by the real index key.
    const swapped = resign(other.resultPayload, other.blocks, indexSigner, {
      ticketId: target.ticketPayload.ticketId,
      queryHash: target.ticketPayload.queryHash,
    });
    await expectRefused(() => submit(target.ticket, swapped, other.blocks), REFUSED.canary);
  });

  it('still answers a genuine recall through the client after every attack', async () => {
    for (const record of captured) {
      const outcome = await client.recallVector(record.vector, 1);
      expect(outcome.skipped).toEqual([]);
      expect(outcome.hits.map((h) => [h.recordId, h.record.insight])).toEqual([
        [record.recordId, record.insight],
      ]);
      expect(outcome.hits[0]!.score).toBeGreaterThan(0.99);
    }
    const opened = await stack.vaultMetric('vault_decryption_operations_total', { status: 'success' });
    expect(opened).toBeGreaterThanOrEqual(captured.length + 2);
  });
});
