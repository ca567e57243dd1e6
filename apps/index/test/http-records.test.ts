import { blockScoreWords, decryptTopK, ScoreDecryptor } from '@rune/crypto';
import {
  FRAME_CONTENT_TYPE,
  MessageKind,
  decodeBase64url,
  decodeFrame,
  encodeBase64url,
  verifyEnvelope,
} from '@rune/protocol';
import { describe, expect, it } from 'vitest';
import {
  INDEX_ID,
  NOW,
  capturePermit,
  deletePermit,
  encryptedVector,
  engine,
  indexParty,
  latticeKeys,
  newParty,
  parsedBlocks,
  queryBytes,
  sealedFor,
  searchTicket,
} from './core-helpers.js';
import { OPERATOR_TOKEN, withHttp, type ErrorBody, type HttpHarness } from './http-helpers.js';

const WORDS = blockScoreWords(1);
const RECORDS = `/v1/indexes/${INDEX_ID}/records`;

function insertBody(n: number, permit: unknown = capturePermit(n)): unknown {
  return {
    permit,
    vector: encodeBase64url(encryptedVector(n, 32)),
    sealed: encodeBase64url(sealedFor(`rec-${n}`)),
  };
}

async function insert(t: HttpHarness, n: number): Promise<void> {
  const res = await t.post(RECORDS, insertBody(n));
  expect(res.status).toBe(201);
}

async function recordCount(t: HttpHarness): Promise<number> {
  const res = await t.get(`/v1/indexes/${INDEX_ID}/stats`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { recordCount: number }).recordCount;
}

describe('index HTTP API', () => {
  it('creates an index only with the operator token', async () => {
    await withHttp(async (t) => {
      const body = { indexId: INDEX_ID, paramSetId: 1, dim: 32, embedderId: 'test/embedder@1' };
      const none = await t.post('/v1/indexes', body);
      expect(none.status).toBe(401);
      expect(await none.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'unauthenticated' } });
      const wrong = await t.post('/v1/indexes', body, { authorization: `Bearer ${OPERATOR_TOKEN}x` });
      expect(wrong.status).toBe(401);
      expect((await t.get(`/v1/indexes/${INDEX_ID}`)).status).toBe(404);

      const ok = await t.post('/v1/indexes', body, { authorization: `Bearer ${OPERATOR_TOKEN}` });
      expect(ok.status).toBe(201);
      expect(await ok.json()).toMatchObject({ id: INDEX_ID, dim: 32, wordsPerBlock: WORDS });
      const again = await t.post('/v1/indexes', body, { authorization: `Bearer ${OPERATOR_TOKEN}` });
      expect(again.status).toBe(409);
      expect(((await again.json()) as ErrorBody).error.code).toBe('INDEX_EXISTS');
    });
  });

  it('inserts with a valid permit and returns the signed receipt', async () => {
    await withHttp(async (t) => {
      await t.createIndex();
      const res = await t.post(RECORDS, insertBody(0));
      expect(res.status).toBe(201);
      const { receipt } = (await res.json()) as { receipt: unknown };
      const payload = verifyEnvelope(MessageKind.INSERT_RECEIPT, receipt, indexParty.key, { now: NOW });
      expect(payload).toMatchObject({ indexId: INDEX_ID, recordId: 'rec-0' });
      expect(await recordCount(t)).toBe(1);
      expect(await t.metric('index_inserts_total{status="ok"}')).toBe(1);
      expect(await t.metric('index_records')).toBe(1);
    });
  });

  it('searches to exactly the ticket’s blocks, which decrypt to the record, and fetches its sealed bytes', async () => {
    await withHttp(async (t) => {
      await t.createIndex();
      for (const n of [0, 1, 130]) await insert(t, n);
      const query = queryBytes(130, 32);
      const ticket = searchTicket(query, 2, WORDS);
      const res = await t.post(`/v1/indexes/${INDEX_ID}/search`, { ticket, query: encodeBase64url(query) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { result: unknown; blocks: string[] };
      expect(body.blocks).toHaveLength(2);
      verifyEnvelope(MessageKind.SEARCH_RESULT, body.result, indexParty.key, { now: NOW });
      const blocks = body.blocks.map((b) => decodeBase64url(b));
      const live = new Set(['0:0', '0:1', '1:2']);
      const top = decryptTopK(ScoreDecryptor.create(engine, latticeKeys(1).secretKey), parsedBlocks(blocks), {
        k: 1,
        isLive: (blockId, slot) => live.has(`${blockId}:${slot}`),
      });
      expect(top[0]).toMatchObject({ blockId: 1, slot: 2 });

      // A member asking for a frame gets the same signed result and blocks as raw bytes.
      const framed = await t.post(
        `/v1/indexes/${INDEX_ID}/search`,
        { ticket: searchTicket(query, 2, WORDS), query: encodeBase64url(query) },
        { accept: FRAME_CONTENT_TYPE },
      );
      expect(framed.status).toBe(200);
      expect(framed.headers.get('content-type')).toBe(FRAME_CONTENT_TYPE);
      const frame = decodeFrame(new Uint8Array(await framed.arrayBuffer()), {
        maxJsonBytes: 65_536,
        maxBlobs: 8,
        maxBlobBytes: 1 << 20,
      });
      verifyEnvelope(MessageKind.SEARCH_RESULT, (frame.json as { result: unknown }).result, indexParty.key, {
        now: NOW,
      });
      expect(frame.blobs.map((b) => b.byteLength)).toEqual(blocks.map((b) => b.byteLength));

      const fetched = await t.post(`${RECORDS}/fetch`, { ticket, recordIds: ['rec-130', 'rec-unknown'] });
      expect(fetched.status).toBe(200);
      const { records } = (await fetched.json()) as { records: { recordId: string; sealed: string }[] };
      expect(records).toHaveLength(1);
      expect(records[0]?.recordId).toBe('rec-130');
      expect(decodeBase64url(records[0]?.sealed ?? '')).toEqual(sealedFor('rec-130'));

      const replay = await t.post(`/v1/indexes/${INDEX_ID}/search`, {
        ticket,
        query: encodeBase64url(query),
      });
      expect(replay.status).toBe(409);
      expect(((await replay.json()) as ErrorBody).error.code).toBe('REPLAYED');
      expect(await t.metric('index_refusals_total{reason="replay"}')).toBe(1);
    });
  });

  it('refuses malformed JSON with 400 and a clear error body', async () => {
    await withHttp(async (t) => {
      await t.createIndex();
      for (const text of ['{', '{"permit":1,}', '[]', '{"a":1.5}', '']) {
        const res = await t.post(RECORDS, text);
        expect(res.status).toBe(400);
        const body = (await res.json()) as ErrorBody;
        expect(body.error.code).toBe('MALFORMED_REQUEST');
        expect(body.error.message.length).toBeGreaterThan(0);
      }
      const bad = await t.post(RECORDS, { ...(insertBody(0) as object), vector: 'not base64!' });
      expect(bad.status).toBe(400);
      expect(await recordCount(t)).toBe(0);
      expect(await t.metric('index_refusals_total{reason="input"}')).toBe(6);
    });
  });

  it('refuses an oversized body with 413 before parsing and changes nothing', async () => {
    await withHttp(async (t) => {
      await t.createIndex();
      const huge = { ...(insertBody(0) as object), sealed: 'A'.repeat(2 * 1024 * 1024) };
      const res = await t.post(RECORDS, huge);
      expect(res.status).toBe(413);
      expect(((await res.json()) as ErrorBody).error.code).toBe('PAYLOAD_TOO_LARGE');
      const search = await t.post(`/v1/indexes/${INDEX_ID}/search`, `"${'x'.repeat(600 * 1024)}"`);
      expect(search.status).toBe(413);
      expect(await recordCount(t)).toBe(0);
      expect((await t.post(RECORDS, insertBody(0))).status).toBe(201);
    });
  });

  it('refuses a permit signed by another key with 401 and counts it', async () => {
    await withHttp(async (t) => {
      await t.createIndex();
      const res = await t.post(RECORDS, insertBody(0, capturePermit(0, {}, newParty().signer)));
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'unauthenticated' } });
      expect(await recordCount(t)).toBe(0);
      expect(await t.metric('index_refusals_total{reason="signature"}')).toBe(1);
      expect(await t.metric('index_inserts_total{status="refused"}')).toBe(1);
    });
  });

  it('maps core errors: unknown index 404, occupied slot 409, delete then fetch finds nothing', async () => {
    await withHttp(async (t) => {
      expect((await t.get('/v1/indexes/missing/stats')).status).toBe(404);
      await t.createIndex();
      await insert(t, 0);
      const clash = await t.post(RECORDS, insertBody(0, capturePermit(0, { recordId: 'rec-other' })));
      expect(clash.status).toBe(409);
      expect(((await clash.json()) as ErrorBody).error.code).toBe('SLOT_OCCUPIED');
      const del = await t.post(`${RECORDS}/delete`, { permit: deletePermit('rec-0') });
      expect(del.status).toBe(200);
      expect(await recordCount(t)).toBe(0);
    });
  });
});
