import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { createVaultApp } from '../src/http/index.js';
import { createVaultMetrics } from '../src/http/metrics.js';
import { publishKey } from '../src/keys/published-key.js';
import { createSearchCore } from '../src/search/index.js';
import { setupVault } from './search-harness.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A real Vault (cores in a temp dir) behind the HTTP adapter on 127.0.0.1:random. */
export async function startHttpVault() {
  const vault = await setupVault();
  const metrics = createVaultMetrics();
  // The app's metrics observe the core through onEvent, as main.ts wires it.
  const core = createSearchCore({ ...vault.deps, onEvent: metrics.onSearchEvent });
  const tokens = {
    admin: vault.registry.rotateToken(vault.admin.id).token,
    alice: vault.registry.rotateToken(vault.alice.id).token,
    reader: vault.registry.rotateToken(vault.reader.id).token,
  };
  const handler = createVaultApp({
    registry: vault.registry,
    audit: vault.audit,
    search: core,
    metrics,
    publishedKey: publishKey({
      paramSetId: 1,
      secretKey: vault.keys.secretKey,
      publicKey: vault.keys.publicKey,
      teamSecret: vault.teamSecret,
      signingSeed: vault.signingSeed,
      createdAt: 0,
    }),
    dataDir: vault.dataDir,
    keysAccessible: () => Promise.resolve(true),
    version: '0.1.0-test',
    clock: vault.clock.now,
    healthThresholdPercent: 101,
  });
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      json: () => JSON.parse(text) as Record<string, unknown>,
    };
  };
  return { vault, core, metrics, tokens, base, call };
}
