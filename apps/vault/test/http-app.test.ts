import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { FRAME_CONTENT_TYPE, decodeBase64url, encodeBase64url, encodeFrame } from '@rune/protocol';
import { type PublishedKey, verifyPublishedKey } from '../src/keys/published-key.js';
import { plainQueryBytes } from '../src/search/index.js';
import { startHttpVault } from './http-harness.js';
import { INDEX_ID, capture, plantAndInsertCanaries, unitVectors } from './search-harness.js';

const METRIC_NAMES = [
  'vault_health_status',
  'vault_requests_total',
  'vault_request_duration_seconds',
  'vault_decryption_operations_total',
  'vault_decryption_duration_seconds',
  'vault_key_access_total',
  'vault_cpu_usage_percent',
  'vault_memory_usage_bytes',
  'vault_memory_usage_percent',
  'vault_disk_usage_percent',
  'vault_uptime_seconds',
  'vault_tickets_issued_total',
  'vault_refusals_total',
  'vault_rate_limited_total',
  'vault_audit_entries_total',
];

describe('vault HTTP: health, metrics, status', () => {
  it('answers health, liveness, readiness, status and exposes every DESIGN §5 metric', async () => {
    const { call } = await startHttpVault();
    const health = await call('GET', '/health');
    expect(health.status).toBe(200);
    expect(Object.keys(health.json().checks as object).sort()).toEqual(['cpu', 'disk', 'keys', 'memory']);
    expect((await call('GET', '/health/live')).status).toBe(200);
    expect((await call('GET', '/health/ready')).status).toBe(200);
    const status = await call('GET', '/status');
    expect(status.status).toBe(200);
    expect(status.json()).toMatchObject({ version: '0.1.0-test', counts: { members: 4 } });
    const metrics = await call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    for (const name of METRIC_NAMES) expect(metrics.text).toContain(`# TYPE ${name} `);
    expect(metrics.text).toMatch(/vault_requests_total\{method="GET",endpoint="\/health",status="200"\} 1/);
    // The percent gauges carry real readings of this host, not placeholders.
    for (const name of ['vault_memory_usage_percent', 'vault_disk_usage_percent']) {
      const value = Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics.text)?.[1]);
      expect(value, name).toBeGreaterThan(0);
      expect(value, name).toBeLessThanOrEqual(100);
    }
  });

  it('answers 404 for unknown routes and 405 for a known route with the wrong method', async () => {
    const { call } = await startHttpVault();
    expect((await call('GET', '/nope')).status).toBe(404);
    const wrong = await call('DELETE', '/health');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
  });
});

describe('vault HTTP: authentication and input', () => {
  it('answers 401 UNAUTHENTICATED without a reason for no token and a wrong token', async () => {
    const { call, vault } = await startHttpVault();
    for (const token of [undefined, 'rune_' + 'A'.repeat(43), 'garbage']) {
      const res = await call('POST', '/v1/permits', token, { indexId: INDEX_ID });
      expect(res.status).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'unauthenticated' } });
    }
    const denied = (await vault.entries()).filter((e) => e.outcome === 'denied');
    expect(denied.length).toBeGreaterThanOrEqual(3);
    expect(denied.every((e) => typeof e.reason === 'string')).toBe(true);
  });

  it('publishes the signed public key to members only, verifiable against its pinned hash', async () => {
    const { call, tokens } = await startHttpVault();
    expect((await call('GET', '/v1/keys/public')).status).toBe(401);
    const res = await call('GET', '/v1/keys/public', tokens.reader);
    expect(res.status).toBe(200);
    const published = res.json() as unknown as PublishedKey;
    const verified = verifyPublishedKey(published, published.publicKeyHash, {
      pinnedVaultKeyId: published.keyId,
    });
    expect(verified.publicKeyHash).toBe(published.publicKeyHash);
  });

  it('answers 403 forbidden to a reader asking for a capture permit', async () => {
    const { call, tokens } = await startHttpVault();
    const res = await call('POST', '/v1/permits', tokens.reader, { indexId: INDEX_ID });
    expect(res.status).toBe(403);
    expect(res.json()).toEqual({ error: { code: 'FORBIDDEN', message: 'forbidden' } });
  });

  it('refuses an over-size body with 413 and malformed JSON with 400', async () => {
    const { call, tokens } = await startHttpVault();
    const big = JSON.stringify({ indexId: 'x'.repeat(4 * 1024 * 1024) });
    expect((await call('POST', '/v1/permits', tokens.alice, big)).status).toBe(413);
    const bad = await call('POST', '/v1/permits', tokens.alice, '{"indexId": "a", "indexId": "b"}');
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
    expect((await call('POST', '/v1/permits', tokens.alice, '{not json')).status).toBe(400);
    expect((await call('POST', '/v1/permits', tokens.alice, { indexId: INDEX_ID, extra: 1 })).status).toBe(
      400,
    );
  });
});

describe('vault HTTP: members and search', () => {
  it('lets only an admin define a custom role, whose rate limit then applies to its members', async () => {
    const { call, tokens } = await startHttpVault();
    const role = {
      name: 'bot',
      capabilities: ['capture', 'recall'],
      topKCap: 3,
      rateLimit: { requestsPerMinute: 60, burst: 2 },
    };
    expect((await call('POST', '/v1/roles', tokens.alice, role)).status).toBe(403);
    expect((await call('POST', '/v1/roles', tokens.admin, { ...role, topKCap: -1 })).status).toBe(400);
    expect((await call('POST', '/v1/roles', tokens.admin, role)).status).toBe(201);
    const names = ((await call('GET', '/v1/roles', tokens.admin)).json().roles as { name: string }[]).map(
      (r) => r.name,
    );
    expect(names).toContain('bot');
    const added = await call('POST', '/v1/members', tokens.admin, {
      name: 'Bot',
      email: 'b@x.io',
      role: 'bot',
    });
    const token = added.json().token as string;
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await call('POST', '/v1/permits', token, { indexId: INDEX_ID })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('lets an admin add a member whose once-shown token gets a permit and a ticket', async () => {
    const { call, tokens } = await startHttpVault();
    const added = await call('POST', '/v1/members', tokens.admin, {
      name: 'Dee',
      email: 'dee@example.com',
      role: 'member',
    });
    expect(added.status).toBe(201);
    const token = added.json().token as string;
    expect(token).toMatch(/^rune_/);
    const list = await call('GET', '/v1/members', tokens.admin);
    expect(list.text).not.toContain(token);
    const permit = await call('POST', '/v1/permits', token, { indexId: INDEX_ID });
    expect(permit.status).toBe(200);
    expect(decodeBase64url(permit.json().recordKey as string)).toHaveLength(32);
    const query = encodeBase64url(plainQueryBytes(unitVectors(1)[0]!));
    const ticket = await call('POST', '/v1/tickets', token, { indexId: INDEX_ID, query, k: 3 });
    expect(ticket.status).toBe(200);
    expect(ticket.json().ticket).toBeTypeOf('object');
    expect(
      (await call('POST', '/v1/members', tokens.alice, { name: 'E', email: 'e@example.com', role: 'member' }))
        .status,
    ).toBe(403);
  });

  it('returns the captured record through /v1/results and refuses a replayed result, counting it', async () => {
    const { call, tokens, vault, core } = await startHttpVault();
    const vectors = unitVectors(3);
    const captured = [];
    for (const v of vectors) captured.push(await capture({ ...vault, core }, vault.alice, v));
    await plantAndInsertCanaries({ ...vault, core }, 1);

    const queryBytes = plainQueryBytes(vectors[1]!);
    const t = await call('POST', '/v1/tickets', tokens.alice, {
      indexId: INDEX_ID,
      query: encodeBase64url(queryBytes),
      k: 2,
    });
    const ticket = t.json().ticket;
    const { result, blocks } = vault.index.search(ticket, queryBytes);
    const body = { ticket, result, blocks: blocks.map((b) => encodeBase64url(b)) };
    const res = await call('POST', '/v1/results', tokens.alice, body);
    expect(res.status).toBe(200);
    const hits = res.json().hits as { recordId: string; score: number; recordKey: string }[];
    expect(hits[0]!.recordId).toBe(captured[1]!.recordId);
    expect(Buffer.from(decodeBase64url(hits[0]!.recordKey)).equals(Buffer.from(captured[1]!.recordKey))).toBe(
      true,
    );

    const replay = await call('POST', '/v1/results', tokens.alice, body);
    expect(replay.status).toBeGreaterThanOrEqual(400);
    expect(replay.status).toBeLessThan(500);
    const metrics = (await call('GET', '/metrics')).text;
    expect(metrics).toMatch(/vault_refusals_total\{reason="replay"\} 1/);
    expect(metrics).toMatch(/vault_decryption_operations_total\{status="success"\} 1/);
    expect(metrics).toMatch(/vault_tickets_issued_total 1/);
  });

  it('opens a result sent as a frame (raw score blocks) and refuses a malformed frame with 400', async () => {
    const { base, tokens, vault, core } = await startHttpVault();
    const vectors = unitVectors(2);
    const captured = [];
    for (const v of vectors) captured.push(await capture({ ...vault, core }, vault.alice, v));
    const queryBytes = plainQueryBytes(vectors[0]!);
    const post = (body: Uint8Array | string, type: string) =>
      fetch(`${base}/v1/results`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': type },
        body,
      });
    const ticketFor = async () => {
      const res = await fetch(`${base}/v1/tickets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ indexId: INDEX_ID, query: encodeBase64url(queryBytes), k: 1 }),
      });
      return ((await res.json()) as { ticket: unknown }).ticket;
    };
    const ticket = await ticketFor();
    const { result, blocks } = vault.index.search(ticket, queryBytes);
    const frame = encodeFrame({ ticket, result }, blocks);

    const truncated = await post(frame.subarray(0, frame.byteLength - 3), FRAME_CONTENT_TYPE);
    expect(truncated.status).toBe(400);
    expect(((await truncated.json()) as { error: { code: string } }).error.code).toBe('INVALID_REQUEST');
    const extraField = await post(encodeFrame({ ticket, result, blocks: [] }, blocks), FRAME_CONTENT_TYPE);
    expect(extraField.status).toBe(400);

    const opened = await post(frame, FRAME_CONTENT_TYPE);
    expect(opened.status).toBe(200);
    const hits = ((await opened.json()) as { hits: { recordId: string }[] }).hits;
    expect(hits.map((h) => h.recordId)).toEqual([captured[0]!.recordId]);
  });

  it('never shows a token in /status, /metrics or the audit file', async () => {
    const { call, tokens, vault } = await startHttpVault();
    const added = await call('POST', '/v1/members', tokens.admin, {
      name: 'Fay',
      email: 'fay@example.com',
      role: 'member',
    });
    const fresh = added.json().token as string;
    await call('POST', '/v1/permits', fresh, { indexId: INDEX_ID });
    await call('POST', '/v1/permits', fresh + 'x', { indexId: INDEX_ID });
    const inv = await call('POST', '/v1/invitations', tokens.admin, { role: 'reader' });
    const redeemed = await call('POST', '/v1/invitations/redeem', undefined, {
      code: inv.json().code,
      name: 'Gus',
      email: 'gus@example.com',
    });
    expect(redeemed.status).toBe(201);
    const secrets = [
      ...Object.values(tokens),
      fresh,
      inv.json().code as string,
      redeemed.json().token as string,
    ];
    const texts = [
      (await call('GET', '/status')).text,
      (await call('GET', '/metrics')).text,
      await readFile(vault.audit.path, 'utf8'),
    ];
    for (const text of texts) for (const s of secrets) expect(text).not.toContain(s);
  });
});
