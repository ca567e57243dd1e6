import { createServer as createNetServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { JsonHttpClient } from '../src/index.js';
import { caught, sendJson, startServer } from './helpers.js';

const TOKEN = `rune_${'t'.repeat(43)}`;

describe('JsonHttpClient', () => {
  it('posts JSON with the bearer token and returns the parsed answer', async () => {
    const seen: { auth?: string; type?: string; body?: string; url?: string } = {};
    const base = await startServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        Object.assign(seen, {
          auth: req.headers.authorization,
          type: req.headers['content-type'],
          body,
          url: req.url,
        });
        sendJson(res, 200, { ok: true, n: 1.5 });
      });
    });
    const client = new JsonHttpClient({ service: 'vault', baseUrl: base, token: TOKEN });
    expect(await client.post('/v1/permits', { indexId: 'x' })).toEqual({ ok: true, n: 1.5 });
    expect(seen).toEqual({
      auth: `Bearer ${TOKEN}`,
      type: 'application/json',
      body: '{"indexId":"x"}',
      url: '/v1/permits',
    });
    client.close();
  });

  it('sends no Authorization header when it has no token (the index client)', async () => {
    let auth: string | undefined = 'unset';
    const base = await startServer((req, res) => {
      auth = req.headers.authorization;
      sendJson(res, 200, {});
    });
    const client = new JsonHttpClient({ service: 'index', baseUrl: base });
    await client.get('/health');
    expect(auth).toBeUndefined();
    client.close();
  });

  it('keeps a path prefix of the base URL (a reverse proxy mount)', async () => {
    let url: string | undefined;
    const base = await startServer((req, res) => {
      url = req.url;
      sendJson(res, 200, {});
    });
    const client = new JsonHttpClient({ service: 'index', baseUrl: `${base}/rune/index/` });
    await client.get('/v1/indexes/a');
    expect(url).toBe('/rune/index/v1/indexes/a');
    client.close();
  });

  it("maps a service's error body to its code, status, message and a recovery hint", async () => {
    const base = await startServer((req, res) => {
      if (req.url === '/limited') {
        sendJson(
          res,
          429,
          { error: { code: 'RATE_LIMITED', message: 'rate limit exceeded' } },
          { 'retry-after': '7' },
        );
      } else {
        sendJson(res, 401, { error: { code: 'UNAUTHENTICATED', message: 'unauthenticated' } });
      }
    });
    const client = new JsonHttpClient({ service: 'vault', baseUrl: base, token: TOKEN });
    const denied = await caught(() => client.get('/v1/keys/public'));
    expect(denied).toMatchObject({ code: 'UNAUTHENTICATED', status: 401, service: 'vault' });
    expect(denied.message).toContain('unauthenticated');
    expect(denied.hint).toContain('token');

    const limited = await caught(() => client.post('/limited', {}));
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfterMs: 7000 });
    expect(limited.hint).toContain('7 s');
    client.close();
  });

  it('maps index refusals with index hints', async () => {
    const base = await startServer((_req, res) => {
      sendJson(res, 404, { error: { code: 'INDEX_NOT_FOUND', message: 'no index team_x' } });
    });
    const client = new JsonHttpClient({ service: 'index', baseUrl: base });
    const err = await caught(() => client.get('/v1/indexes/team_x'));
    expect(err).toMatchObject({ code: 'INDEX_NOT_FOUND', status: 404, service: 'index' });
    expect(err.hint).toContain('indexId');
    client.close();
  });

  it('treats a proxy 502 without a Rune body as unreachable, and other foreign answers as invalid', async () => {
    const base = await startServer((req, res) => {
      const status = req.url === '/bad-gateway' ? 502 : req.url === '/html' ? 404 : 200;
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end('<html>nope</html>');
    });
    const client = new JsonHttpClient({ service: 'index', baseUrl: base });
    expect(await caught(() => client.get('/bad-gateway'))).toMatchObject({
      code: 'INDEX_UNREACHABLE',
      status: 502,
    });
    expect(await caught(() => client.get('/html'))).toMatchObject({
      code: 'INDEX_RESPONSE_INVALID',
      status: 404,
    });
    expect((await caught(() => client.get('/ok-but-html'))).code).toBe('INDEX_RESPONSE_INVALID');
    client.close();
  });

  it('refuses a response over the size cap, declared or streamed', async () => {
    const base = await startServer((req, res) => {
      if (req.url === '/declared') {
        sendJson(res, 200, { blob: 'x'.repeat(2000) });
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"blob":"');
      res.write('x'.repeat(2000));
      res.end('"}');
    });
    const client = new JsonHttpClient({ service: 'vault', baseUrl: base, maxResponseBytes: 1000 });
    expect((await caught(() => client.get('/declared'))).code).toBe('RESPONSE_TOO_LARGE');
    expect((await caught(() => client.get('/streamed'))).code).toBe('RESPONSE_TOO_LARGE');
    expect(await client.get('/declared', { maxResponseBytes: 4096 })).toEqual({ blob: 'x'.repeat(2000) });
    client.close();
  });

  it('gives up after the timeout with VAULT_TIMEOUT', async () => {
    const base = await startServer(() => {
      // Never answers.
    });
    const client = new JsonHttpClient({ service: 'vault', baseUrl: base, timeoutMs: 50 });
    const err = await caught(() => client.get('/v1/keys/public'));
    expect(err.code).toBe('VAULT_TIMEOUT');
    expect(err.message).toContain('50 ms');
    client.close();
  });

  it('reports a refused connection as VAULT_UNREACHABLE / INDEX_UNREACHABLE', async () => {
    // A port that was just free: bind, note it, close.
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const vault = new JsonHttpClient({ service: 'vault', baseUrl: `http://127.0.0.1:${port}` });
    const err = await caught(() => vault.get('/'));
    expect(err.code).toBe('VAULT_UNREACHABLE');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.hint).toContain('running');
    const index = new JsonHttpClient({ service: 'index', baseUrl: `http://127.0.0.1:${port}` });
    expect((await caught(() => index.get('/'))).code).toBe('INDEX_UNREACHABLE');
  });

  it('reports https spoken to a plaintext server as unreachable with a scheme hint', async () => {
    const base = await startServer((_req, res) => {
      sendJson(res, 200, {});
    });
    const client = new JsonHttpClient({ service: 'vault', baseUrl: base.replace('http:', 'https:') });
    const err = await caught(() => client.get('/'));
    expect(err.code).toBe('VAULT_UNREACHABLE');
    expect(err.hint).toContain('https://');
    client.close();
  });
});
