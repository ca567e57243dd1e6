import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { createIndexApp } from '../src/http/app.js';
import { INDEX_ID, withService, type Harness } from './core-helpers.js';

export const OPERATOR_TOKEN = 'rune_operator-test-token';

export interface HttpHarness {
  readonly h: Harness;
  readonly base: string;
  readonly registry: Registry;
  /** POSTs `body` (an object is JSON-encoded, a string sent as is). */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  get(path: string): Promise<Response>;
  /** The value of one sample in the /metrics text, 0 when absent. */
  metric(sample: string): Promise<number>;
  /** Creates INDEX_ID (dim 32, parameter set 1) through the API. */
  createIndex(): Promise<void>;
}

/** A real server on 127.0.0.1 around a real store and core in a temp dir. */
export async function withHttp<T>(fn: (t: HttpHarness) => Promise<T>): Promise<T> {
  return withService(async (h) => {
    const registry = new Registry();
    const handler = createIndexApp({
      service: h.service,
      store: h.store,
      dataDir: h.dir,
      operatorToken: OPERATOR_TOKEN,
      registry,
      version: 'test',
      // Small tmpfs-friendly limit so the disk check passes on CI machines.
      healthLimits: { minFreeDiskBytes: 1024 },
    });
    const server: Server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;
    const t: HttpHarness = {
      h,
      base,
      registry,
      post: (path, body, headers = {}) =>
        fetch(base + path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
      get: (path) => fetch(base + path),
      async metric(sample) {
        const text = await (await fetch(`${base}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
        return line === undefined ? 0 : Number(line.slice(sample.length + 1));
      },
      async createIndex() {
        const res = await t.post(
          '/v1/indexes',
          { indexId: INDEX_ID, paramSetId: 1, dim: 32, embedderId: 'test/embedder@1' },
          { authorization: `Bearer ${OPERATOR_TOKEN}` },
        );
        if (res.status !== 201) throw new Error(`create index failed: ${res.status} ${await res.text()}`);
      },
    };
    try {
      return await fn(t);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    }
  });
}

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}
