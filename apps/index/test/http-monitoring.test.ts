import { describe, expect, it } from 'vitest';
import { withHttp } from './http-helpers.js';

const METRIC_NAMES = [
  'index_health_status',
  'index_requests_total',
  'index_request_duration_seconds',
  'index_search_duration_seconds',
  'index_inserts_total',
  'index_records',
  'index_storage_errors_total',
  'index_refusals_total',
  'index_cpu_usage_percent',
  'index_memory_usage_bytes',
  'index_uptime_seconds',
] as const;

describe('index HTTP monitoring endpoints', () => {
  it('reports healthy with the storage, memory, CPU and disk checks', async () => {
    await withHttp(async (t) => {
      const res = await t.get('/health');
      expect(res.status).toBe(200);
      const body = (await res.json()) as { status: string; checks: Record<string, { status: string }> };
      expect(body.status).toBe('healthy');
      expect(Object.keys(body.checks).sort()).toEqual(['cpu', 'disk', 'memory', 'storage']);
      expect((await t.get('/health/live')).status).toBe(200);
      expect((await t.get('/health/ready')).status).toBe(200);
    });
  });

  it('exports every index_* metric from its own registry with route-template labels', async () => {
    await withHttp(async (t) => {
      await t.get('/v1/indexes/some-index');
      const res = await t.get('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      for (const name of METRIC_NAMES) expect(text).toContain(`# TYPE ${name} `);
      expect(text).toContain('endpoint="/v1/indexes/:id"');
      expect(text).not.toContain('some-index');
      expect(await t.metric('index_health_status')).toBe(1);
      expect(await t.metric('index_refusals_total{reason="signature"}')).toBe(0);
    });
  });

  it('serves a JSON status with version, uptime, resources and counts', async () => {
    await withHttp(async (t) => {
      await t.createIndex();
      const res = await t.get('/status');
      expect(res.status).toBe(200);
      const body = (await res.json()) as { version: string; counts: { indexes: number; records: number } };
      expect(body).toMatchObject({ version: 'test', counts: { indexes: 1, records: 0 } });
    });
  });

  it('answers 404 for an unknown route and 405 with Allow for a wrong method', async () => {
    await withHttp(async (t) => {
      const missing = await t.get('/nope');
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
      const wrong = await t.post('/health', {});
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toBe('GET');
      expect(await wrong.json()).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
    });
  });
});
