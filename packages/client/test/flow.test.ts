import { randomBytes } from 'node:crypto';
import { createSigner, encodeBase64url } from '@rune/protocol';
import { describe, expect, it } from 'vitest';
import { RuneClient } from '../src/index.js';
import { caught, sendJson, startServer } from './helpers.js';
import { startStack } from './stack.js';

const MEMORIES = [
  'We chose PostgreSQL advisory locks for the Vault leader lease because PostgreSQL is already required.',
  'The payment webhook handler must use idempotency keys; Stripe retries deliveries for three days.',
  'CSS grid breaks on Safari 15 mobile when gap is combined with auto-fill; use flexbox there.',
  '数据库迁移之前必须先备份生产数据库。',
];

describe('RuneClient against a real Vault and index', () => {
  it('captures, recalls the right memory first with its fields, and forgets it', async () => {
    const stack = await startStack();
    const alice = await RuneClient.connect(stack.alice, { engine: stack.engine });
    expect(alice.isReceiptVerified).toBe(true);
    const ids: string[] = [];
    for (const insight of MEMORIES) {
      const captured = await alice.capture({ insight, title: insight.slice(0, 20), tags: ['test'] });
      expect(captured.receipt.recordId).toBe(captured.recordId);
      expect(captured.isReceiptVerified).toBe(true);
      ids.push(captured.recordId);
    }

    const recalled = await alice.recall('why postgres advisory locks for the leader lease', { k: 2 });
    expect(recalled.hits).toHaveLength(2);
    expect(recalled.hits[0]?.recordId).toBe(ids[0]);
    expect(recalled.hits[0]?.record).toMatchObject({
      v: 1,
      insight: MEMORIES[0],
      tags: ['test'],
      author: stack.alice.memberId,
    });
    expect(recalled.hits[0]!.score).toBeGreaterThan(recalled.hits[1]!.score);
    expect(recalled.skipped).toEqual([]);
    for (const ms of Object.values(recalled.timings)) expect(ms).toBeGreaterThanOrEqual(0);

    const cjk = await alice.recall('数据库迁移', { k: 1, decoys: 3 });
    expect(cjk.hits[0]?.recordId).toBe(ids[3]);

    // Bob shares the team memory.
    const bob = await RuneClient.connect(stack.bob, { engine: stack.engine });
    const shared = await bob.recall('stripe webhook idempotency', { k: 1 });
    expect(shared.hits[0]?.record.insight).toBe(MEMORIES[1]);
    // Only the author (or an admin) may forget.
    expect(await caught(() => bob.forget(ids[1]!))).toMatchObject({ code: 'FORBIDDEN', status: 403 });

    expect(await alice.forget(ids[0]!)).toEqual({ recordId: ids[0], wasLive: true });
    // Idempotent: the Vault re-issues a permit and the index has already deleted the record.
    expect(await alice.forget(ids[0]!)).toEqual({ recordId: ids[0], wasLive: false });
    const after = await alice.recall('why postgres advisory locks for the leader lease', { k: 3 });
    expect(after.hits.map((h) => h.recordId)).not.toContain(ids[0]);
    alice.close();
    bob.close();
  });

  it('refuses a top-k above the role cap with the Vault code and a hint', async () => {
    const stack = await startStack();
    const alice = await RuneClient.connect(stack.alice, { engine: stack.engine });
    const err = await caught(() => alice.recall('anything at all', { k: 50 }));
    expect(err).toMatchObject({ code: 'TOP_K_ABOVE_CAP', service: 'vault' });
    expect(err.hint).toContain('fewer');
    alice.close();
  });

  it('refuses a receipt signed by a key other than the pinned index key with RECEIPT_INVALID', async () => {
    const stack = await startStack();
    const otherKey = encodeBase64url(createSigner(randomBytes(32)).publicKey);
    const alice = await RuneClient.connect(
      { ...stack.alice, indexVerifyKey: otherKey },
      { engine: stack.engine },
    );
    const err = await caught(() => alice.capture({ insight: 'a memory about receipts' }));
    expect(err).toMatchObject({ code: 'RECEIPT_INVALID', service: 'index' });
    alice.close();
  });

  it('fails a recall with RECORD_TAMPERED when the index returns a modified sealed record', async () => {
    const stack = await startStack();
    const proxy = await startServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        void (async () => {
          const upstream = await fetch(stack.alice.indexUrl + (req.url ?? ''), {
            method: req.method ?? 'GET',
            headers: { 'content-type': 'application/json' },
            ...(req.method === 'POST' ? { body } : {}),
          });
          let text = await upstream.text();
          if (req.url?.endsWith('/records/fetch') === true) {
            const answer = JSON.parse(text) as { records: { recordId: string; sealed: string }[] };
            for (const r of answer.records) {
              const bytes = Buffer.from(r.sealed, 'base64url');
              bytes[bytes.length - 1]! ^= 1;
              r.sealed = bytes.toString('base64url');
            }
            text = JSON.stringify(answer);
          }
          sendJson(res, upstream.status, JSON.parse(text));
        })();
      });
    });
    const alice = await RuneClient.connect({ ...stack.alice, indexUrl: proxy }, { engine: stack.engine });
    await alice.capture({ insight: 'the deploy pipeline pins node 20.19' });
    const err = await caught(() => alice.recall('which node version does deploy pin', { k: 1 }));
    expect(err).toMatchObject({ code: 'RECORD_TAMPERED', service: 'index' });
    alice.close();
  });
});
