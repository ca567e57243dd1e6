import { ProtocolError } from '@rune/protocol';
import { describe, expect, it } from 'vitest';
import { IndexError, IndexErrorCode } from '../src/errors.js';
import { HttpError, INTERNAL_ERROR_BODY, mapError } from '../src/http/errors.js';
import { INDEX_ID } from './core-helpers.js';
import { withHttp } from './http-helpers.js';

const EXPECTED_STATUS: Record<IndexErrorCode, number> = {
  INVALID_INPUT: 400,
  PAYLOAD_TOO_LARGE: 413,
  INDEX_NOT_FOUND: 404,
  INDEX_EXISTS: 409,
  DUPLICATE_RECORD: 409,
  SLOT_OCCUPIED: 409,
  RECORD_NOT_FOUND: 404,
  STORAGE_CORRUPT: 503,
  STORAGE_FAILED: 503,
  STORE_CLOSED: 503,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  REPLAYED: 409,
  SHAPE_MISMATCH: 409,
  OVERLOADED: 503,
  SERVICE_CLOSED: 503,
};

describe('index HTTP error mapping', () => {
  it('maps every IndexError code to its status and keeps the code in the body', () => {
    for (const code of Object.values(IndexErrorCode)) {
      const mapped = mapError(new IndexError(code, 'why'));
      expect(mapped.status, code).toBe(EXPECTED_STATUS[code]);
      expect(mapped.body.error.code).toBe(code);
    }
  });

  it('tells clients only "unauthenticated" or "forbidden", never the reason', () => {
    const cause = new ProtocolError('SIGNATURE_INVALID', 'secret detail');
    expect(
      mapError(new IndexError('UNAUTHENTICATED', 'capture-permit refused: key x', { cause })).body,
    ).toEqual({
      error: { code: 'UNAUTHENTICATED', message: 'unauthenticated' },
    });
    expect(mapError(new IndexError('FORBIDDEN', 'ticket is for index b')).body.error.message).toBe(
      'forbidden',
    );
  });

  it('counts refusals under bounded reasons and storage failures apart', () => {
    expect(mapError(new IndexError('REPLAYED', 'x')).refusal).toBe('replay');
    expect(mapError(new IndexError('SHAPE_MISMATCH', 'x')).refusal).toBe('shape');
    expect(mapError(new IndexError('FORBIDDEN', 'x')).refusal).toBe('signature');
    expect(mapError(new HttpError(400, 'MALFORMED_REQUEST', 'x')).refusal).toBe('input');
    expect(mapError(new IndexError('STORAGE_FAILED', 'x')).isStorageError).toBe(true);
    expect(mapError(new ProtocolError('MALFORMED_REQUEST', 'bad query')).status).toBe(400);
  });

  it('turns an unknown error into the fixed 500 body', () => {
    const mapped = mapError(new Error('/var/lib/secret path'));
    expect(mapped.status).toBe(500);
    expect(mapped.body).toBe(INTERNAL_ERROR_BODY);
    expect(JSON.stringify(mapped.body)).not.toContain('secret');
  });

  it('refuses a streamed body without Content-Length once it passes the limit', async () => {
    await withHttp(async (t) => {
      await t.createIndex();
      const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 100)
            controller.enqueue(chunk); // 6.25 MiB, past the 5 MiB insert limit
          else controller.close();
        },
      });
      const res = await fetch(`${t.base}/v1/indexes/${INDEX_ID}/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      });
      expect(res.status).toBe(413);
      const stats = (await (await t.get(`/v1/indexes/${INDEX_ID}/stats`)).json()) as { recordCount: number };
      expect(stats.recordCount).toBe(0);
    });
  });

  it('refuses a body that is not JSON with 415', async () => {
    await withHttp(async (t) => {
      const res = await t.post(`/v1/indexes/${INDEX_ID}/search`, '{}', { 'content-type': 'text/plain' });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    });
  });
});
