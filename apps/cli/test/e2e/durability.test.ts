import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RecallOutcome, type RuneClient, float32ToLeBytes, isRuneClientError } from '@rune/client';
import { createEngine } from '@rune/crypto';
import { encodeBase64url } from '@rune/protocol';
import { INDEX_ID, ProcessStack, randomUnitVector } from './process-harness.js';

/**
 * kill -9 of a real index process in the middle of concurrent captures, several times over. An
 * acknowledged capture (the client holds a verified receipt) must survive every crash and restart:
 * it is still fetched byte for byte, it is still the top hit for its own vector, and it still opens.
 */

const ROUNDS = 5;
const WORKERS = 4;
/** Ids one fetch may name under a k = 10 ticket: k plus the index's 8 decoys. */
const FETCH_CHUNK = 18;

interface Acknowledged {
  readonly recordId: string;
  readonly vector: Float32Array;
  readonly insight: string;
  readonly round: number;
}

let stack: ProcessStack;

beforeAll(async () => {
  stack = await ProcessStack.start();
}, 120_000);

afterAll(async () => {
  await stack.stop();
}, 30_000);

/** A capture the crash cut off: it may or may not have reached the disk, but it was never acknowledged. */
interface Failed {
  readonly err: unknown;
  readonly vector: Float32Array;
  readonly insight: string;
}

interface Burst {
  /** Resolves with the round's first acknowledgement (never, if none comes). */
  readonly firstAck: Promise<void>;
  /** Workers stop starting captures; the ones in flight finish or fail. */
  stop(): void;
  readonly done: Promise<{ acknowledged: Acknowledged[]; failures: Failed[] }>;
}

/** WORKERS concurrent capture loops; a worker ends at its first failure or once stopped. */
function startBurst(client: RuneClient, round: number): Burst {
  const acknowledged: Acknowledged[] = [];
  const failures: Failed[] = [];
  let isStopped = false;
  let onFirstAck = () => {};
  const firstAck = new Promise<void>((resolveAck) => {
    onFirstAck = resolveAck;
  });
  const done = Promise.all(
    Array.from({ length: WORKERS }, async (_, worker) => {
      for (let n = 0; !isStopped; n++) {
        const vector = randomUnitVector();
        const insight = `durability round ${round} worker ${worker} capture ${n}`;
        try {
          const outcome = await client.captureVector(vector, { v: 1, insight, createdAt: Date.now() });
          acknowledged.push({ recordId: outcome.recordId, vector, insight, round });
          onFirstAck();
        } catch (err: unknown) {
          failures.push({ err, vector, insight });
          return;
        }
      }
    }),
  ).then(() => ({ acknowledged, failures }));
  return {
    firstAck,
    stop: () => {
      isStopped = true;
    },
    done,
  };
}

/**
 * Every acknowledged id is served, and with the same sealed bytes as the first time it was seen:
 * a restart never drops, truncates or swaps a record. One ticket serves every chunk (fetch checks it, never consumes it).
 */
async function expectAllServed(
  acknowledged: readonly Acknowledged[],
  firstSeen: Map<string, string>,
): Promise<void> {
  const query = encodeBase64url(float32ToLeBytes(randomUnitVector()));
  const issued = await stack.vaultPost('/v1/tickets', { indexId: INDEX_ID, query, k: 10 });
  expect(issued.status, JSON.stringify(issued.body)).toBe(200);
  const { ticket } = issued.body as { ticket: unknown };
  const problems: string[] = [];
  for (let from = 0; from < acknowledged.length; from += FETCH_CHUNK) {
    const recordIds = acknowledged.slice(from, from + FETCH_CHUNK).map((a) => a.recordId);
    const answer = await stack.indexPost(`/v1/indexes/${INDEX_ID}/records/fetch`, { ticket, recordIds });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const served = new Map(
      (answer.body as { records: { recordId: string; sealed: string }[] }).records.map((r) => [
        r.recordId,
        r.sealed,
      ]),
    );
    for (const id of recordIds) {
      const sealed = served.get(id);
      const before = firstSeen.get(id);
      if (sealed === undefined || sealed.length === 0) problems.push(`${id}: not served`);
      else if (before === undefined) firstSeen.set(id, sealed);
      else if (before !== sealed) problems.push(`${id}: sealed bytes changed across a restart`);
    }
  }
  expect(problems).toEqual([]);
}

describe('an index killed with SIGKILL during captures loses no acknowledged record', () => {
  it('keeps every acknowledged capture fetchable, findable and openable through repeated kill -9', async () => {
    const acknowledged: Acknowledged[] = [];
    const firstSeen = new Map<string, string>();
    const failed: Failed[] = [];
    // One warm engine for every round's client, so a round's captures start at full speed.
    const engine = createEngine();
    for (let round = 0; round < ROUNDS; round++) {
      const client = await stack.connect({ engine });
      try {
        const burst = startBurst(client, round);
        // The kill lands 50–400 ms into a burst that is known to be writing.
        await Promise.race([burst.firstAck, burst.done]);
        await new Promise((resolveSleep) => setTimeout(resolveSleep, randomInt(50, 401)));
        burst.stop();
        await stack.killIndex();
        const outcome = await burst.done;
        acknowledged.push(...outcome.acknowledged);
        failed.push(...outcome.failures);
        // A capture cut off by the crash fails loudly at the index; it never reports success.
        for (const { err } of outcome.failures) {
          expect(isRuneClientError(err) ? [err.service, err.code] : err).toEqual([
            'index',
            'INDEX_UNREACHABLE',
          ]);
        }
      } finally {
        client.close();
      }
      await stack.restartIndex();
      await expectAllServed(acknowledged, firstSeen);
    }
    expect(acknowledged.length, stack.output()).toBeGreaterThanOrEqual(ROUNDS);
    // Some capture was in flight at some kill: the crashes did land mid-write.
    expect(failed.length).toBeGreaterThan(0);

    const client = await stack.connect({ engine });
    try {
      const lost: string[] = [];
      for (const record of acknowledged) {
        const outcome = await client.recallVector(record.vector, 1);
        const top = outcome.hits[0];
        if (
          outcome.skipped.length > 0 ||
          top?.recordId !== record.recordId ||
          top.record.insight !== record.insight
        ) {
          lost.push(
            `${record.recordId} (round ${record.round}): ${JSON.stringify({ top, skipped: outcome.skipped })}`,
          );
        }
      }
      expect(lost).toEqual([]);

      // A cut-off capture either landed whole (then it is found and opens) or not at all: a torn
      // record would be served and fail to open, which recall reports as RECORD_TAMPERED.
      const torn: string[] = [];
      for (const attempt of failed) {
        let outcome: RecallOutcome;
        try {
          outcome = await client.recallVector(attempt.vector, 1);
        } catch (err: unknown) {
          torn.push(`${attempt.insight}: ${String(err)}`);
          continue;
        }
        const top = outcome.hits[0];
        const isUnreadable = outcome.skipped.some((s) => s.reason === 'unreadable');
        if (
          isUnreadable ||
          (top !== undefined && top.score > 0.99 && top.record.insight !== attempt.insight)
        ) {
          torn.push(`${attempt.insight}: ${JSON.stringify({ top, skipped: outcome.skipped })}`);
        }
      }
      expect(torn).toEqual([]);
    } finally {
      client.close();
    }
  }, 150_000);
});
