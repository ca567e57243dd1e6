import { request } from 'node:http';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../cli/src/stack/local-stack.js';
import { call, childEnv, httpClient, httpServer, structured, tempDir, textOf } from './harness.js';

let root: { path: string; remove(): Promise<void> };
let stack: LocalStack;
let server: Awaited<ReturnType<typeof httpServer>>;
let client: Client | undefined;

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
});

beforeAll(async () => {
  root = await tempDir('rune-mcp-http-');
  stack = await startLocalStack({
    dataDir: join(root.path, 'data'),
    plainHttp: true,
    vaultPort: 0,
    indexPort: 0,
  });
  server = await httpServer(
    childEnv({ RUNE_CONFIG: stack.adminConfigPath, XDG_STATE_HOME: join(root.path, 'state') }),
  );
});

afterAll(async () => {
  await client?.close();
  await server.stop();
  await stack.close();
  await root.remove();
});

interface Raw {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

function raw(headers: Record<string, string>, body: string = INIT, method = 'POST'): Promise<Raw> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    let answered: Raw | undefined;
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        agent: false,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (s: string) => (text += s));
        answered = { status: res.statusCode ?? 0, text: '', headers: res.headers };
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text, headers: res.headers });
        });
      },
    );
    // A server that refuses an oversized body answers and closes while the body is still going out.
    req.on('error', (err) => {
      if (answered === undefined) reject(err);
      else resolve(answered);
    });
    req.end(body);
  });
}

describe('rune mcp --http (Streamable HTTP, stateless)', () => {
  it('serves an SDK client that sends the member token', async () => {
    client = await httpClient(server.url, stack.adminConfig.token);
    expect((await client.listTools()).tools).toHaveLength(6);
    const captured = await call(client, 'capture', {
      insight:
        'Release branches are cut every second Wednesday; hotfixes are cherry-picked, never merged back wholesale.',
      domain: 'release',
    });
    expect(captured.isError, textOf(captured)).toBeFalsy();
    const id = structured<{ recordId: string }>(captured).recordId;
    const recalled = await call(client, 'recall', {
      query: 'when are release branches cut',
      domain: 'release',
    });
    expect(structured<{ hits: { recordId: string }[] }>(recalled).hits.map((h) => h.recordId)).toEqual([id]);
  });

  it('refuses a request without a token, with a malformed one, or with one the Vault does not know', async () => {
    const none = await raw({});
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect((await raw({ authorization: 'Bearer nope' })).status).toBe(401);
    const forged = `rune_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')}`;
    const unknown = await raw({ authorization: `Bearer ${forged}` });
    expect(unknown.status).toBe(401);
    expect(unknown.text).toContain('the Vault refused this token');
  });

  it('refuses a foreign Host or Origin (DNS rebinding) before looking at the token', async () => {
    const auth = { authorization: `Bearer ${stack.adminConfig.token}` };
    const port = new URL(server.url).port;
    expect((await raw({ ...auth, host: `evil.example:${port}` })).status).toBe(403);
    expect((await raw({ ...auth, origin: 'http://evil.example' })).status).toBe(403);
    expect((await raw({ ...auth, origin: 'null' })).status).toBe(403);
    expect((await raw({ host: `evil.example:${port}` })).status).toBe(403);
    const local = await raw({ ...auth, origin: `http://localhost:${port}`, host: `localhost:${port}` });
    expect(local.status).toBe(200);
    expect(local.text).toContain('"serverInfo"');
  });

  it('bounds the body, and answers other methods and paths plainly', async () => {
    const auth = { authorization: `Bearer ${stack.adminConfig.token}` };
    const big = await declaredTooLarge(auth, 4 * 1024 * 1024 + 1);
    expect(big).toBe(413);
    expect((await raw(auth, '{not json')).status).toBe(400);
    expect((await raw(auth, '', 'GET')).status).toBe(405);
  });
});

/** Declares a body over the limit and sends a little of it: the server must answer 413 from the header alone. */
function declaredTooLarge(headers: Record<string, string>, length: number): Promise<number> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': String(length), ...headers },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      },
    );
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
    req.write('{"jsonrpc":"2.0"');
  });
}
