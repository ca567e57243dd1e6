import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealTermStatsDelta } from '../../../../packages/client/src/term-stats-seal.js';
import { ProcessStack, httpJson } from './process-harness.js';

/**
 * kill -9 of a real index process while members append sealed term-statistics deltas: every append
 * the index acknowledged (answered with a sequence number) survives the crash under the same
 * number, numbering stays gapless, and appends continue after the restart.
 */

const INDEX_ID = 'notes';
const ROUNDS = 2;
const WORKERS = 3;

let stack: ProcessStack;
let statsKey: Buffer;
let grant: unknown;

beforeAll(async () => {
  stack = await ProcessStack.start();
  const adminToken = (await readFile(join(stack.vaultDir, 'bootstrap-admin.token'), 'utf8')).trim();
  const operatorToken = (await readFile(join(stack.indexDir, 'operator.token'), 'utf8')).trim();
  const created = await httpJson(
    'POST',
    `${stack.indexUrl}/v1/indexes`,
    { indexId: INDEX_ID, paramSetId: 1, dim: 384, embedderId: 'bm25-hash-v1-d384' },
    operatorToken,
  );
  expect(created.status).toBe(201);
  const registered = await httpJson(
    'POST',
    `${stack.vaultUrl}/v1/indexes`,
    { indexId: INDEX_ID, dim: 384 },
    adminToken,
  );
  expect(registered.status).toBe(201);
  const answer = await stack.vaultPost('/v1/term-stats/grant', { indexId: INDEX_ID });
  const body = answer.body as { grant: unknown; statsKey: string };
  statsKey = Buffer.from(body.statsKey, 'base64url');
  grant = body.grant;
}, 120_000);

afterAll(async () => {
  await stack.stop();
}, 30_000);

/** One permit, one sealed delta, one append; the seq when the index acknowledged it. */
async function appendOne(): Promise<{ recordId: string; seq: number } | undefined> {
  const permitted = await stack.vaultPost('/v1/permits', { indexId: INDEX_ID });
  if (permitted.status !== 200) return undefined;
  const { permit, recordId } = permitted.body as { permit: unknown; recordId: string };
  const sealed = sealTermStatsDelta(
    statsKey,
    { indexId: INDEX_ID, recordId, kind: 'capture' },
    { documents: 1, terms: Uint32Array.from([1, 2, 3]) },
  );
  try {
    const appended = await stack.indexPost(`/v1/indexes/${INDEX_ID}/term-stats`, {
      permit,
      sealed: Buffer.from(sealed).toString('base64url'),
    });
    return appended.status === 201 ? { recordId, seq: (appended.body as { seq: number }).seq } : undefined;
  } catch {
    return undefined; // the connection died with the index
  }
}

async function storedDeltas(): Promise<Map<string, number>> {
  const answer = await stack.indexPost(`/v1/indexes/${INDEX_ID}/term-stats/fetch`, { grant, after: 0 });
  expect(answer.status).toBe(200);
  const page = answer.body as { deltas: { seq: number; recordId: string }[]; lastSeq: number };
  page.deltas.forEach((d, i) => {
    expect(d.seq).toBe(i + 1);
  });
  expect(page.lastSeq).toBe(page.deltas.length);
  return new Map(page.deltas.map((d) => [d.recordId, d.seq]));
}

describe('term-stats log durability', () => {
  it('keeps every acknowledged append across kill -9 of the index', async () => {
    const acknowledged: { recordId: string; seq: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      let isStopped = false;
      const workers = Array.from({ length: WORKERS }, async () => {
        while (!isStopped) {
          const done = await appendOne();
          if (done === undefined) return;
          acknowledged.push(done);
        }
      });
      const before = acknowledged.length;
      for (let i = 0; i < 200 && acknowledged.length < before + 5; i++)
        await new Promise((r) => setTimeout(r, 20));
      await stack.killIndex();
      isStopped = true;
      await Promise.all(workers);
      await stack.restartIndex();
      const stored = await storedDeltas();
      for (const { recordId, seq } of acknowledged) expect(stored.get(recordId)).toBe(seq);
    }
    expect(acknowledged.length).toBeGreaterThanOrEqual(ROUNDS * 5);
    const after = await appendOne();
    expect(after?.seq).toBe((await storedDeltas()).size);
  }, 120_000);
});
