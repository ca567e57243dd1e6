import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { RuneClientError, type MemberConfig } from '../src/index.js';

const dirs: string[] = [];
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise((resolve) => {
          s.closeAllConnections();
          s.close(resolve);
        }),
    ),
  );
});

/** A fresh directory under the OS temp dir, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rune-client-'));
  dirs.push(dir);
  return dir;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A node:http server on 127.0.0.1:random, closed after the test. */
export async function startServer(handler: Handler, server: Server = createServer()): Promise<string> {
  server.on('request', handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const scheme = 'cert' in server ? 'https' : 'http';
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Runs `fn` and returns the RuneClientError it throws or rejects with, failing if it does not. */
export async function caught(fn: () => unknown): Promise<RuneClientError> {
  try {
    await fn();
  } catch (err: unknown) {
    if (err instanceof RuneClientError) return err;
    throw err;
  }
  throw new Error('expected a RuneClientError, nothing was thrown');
}

export const TOKEN = `rune_${'A'.repeat(43)}`;

export function sampleConfig(overrides: Partial<MemberConfig> = {}): MemberConfig {
  return {
    version: 1,
    vaultUrl: 'https://vault.example.com',
    indexUrl: 'https://index.example.com/rune',
    indexId: 'team_main',
    token: TOKEN,
    publicKeyHash: 'ab'.repeat(32),
    vaultKeyId: 'cd'.repeat(16),
    name: 'Ada',
    embedder: { id: 'lexical-hash-v1-d384', dim: 384 },
    ...overrides,
  };
}
