import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { EmbedError } from '../src/index.js';

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
  const dir = await mkdtemp(join(tmpdir(), 'rune-embed-'));
  dirs.push(dir);
  return dir;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A node:http server on 127.0.0.1:random, closed after the test; returns its origin. */
export async function startServer(handler: Handler): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An origin where nothing listens: a port the OS handed out and that was closed again. */
export async function deadOrigin(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** The EmbedError `fn` rejects with; fails the test when it resolves or throws something else. */
export async function embedErrorOf(fn: () => Promise<unknown>): Promise<EmbedError> {
  try {
    await fn();
  } catch (err: unknown) {
    if (err instanceof EmbedError) return err;
    throw err;
  }
  throw new Error('expected an EmbedError, got success');
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}

/** Each coordinate of `actual` within 10^-digits of `want`'s. */
export function expectVectorClose(actual: ArrayLike<number>, want: ArrayLike<number>, digits = 5): void {
  expect(actual.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(actual[i]).toBeCloseTo(want[i] ?? Number.NaN, digits);
}
