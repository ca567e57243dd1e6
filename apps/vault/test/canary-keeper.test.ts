import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeBase64url } from '@rune/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { CanaryKeeper } from '../src/server/canary-keeper.js';
import { INDEX_ID, capture, setupVault, unitVectors, type Vault } from './search-harness.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A real HTTP index front for the harness index: inserts land there, or fail while `isDown`. */
async function indexServer(vault: Vault) {
  const state = { isDown: false, inserts: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.inserts++;
      if (state.isDown) {
        res.writeHead(503).end('{"error":{"code":"STORAGE_FAILED","message":"down"}}');
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { permit: unknown; vector: string };
      const receipt = vault.index.insert(body.permit, decodeBase64url(body.vector));
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ receipt }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, state };
}

const silent = { warn: () => undefined };

describe('CanaryKeeper', () => {
  it('plants one canary per block through the index and arms it with the receipt', async () => {
    const vault = await setupVault();
    const { url } = await indexServer(vault);
    for (const v of unitVectors(2)) await capture(vault, vault.alice, v);
    const keeper = new CanaryKeeper(vault.core, { url }, silent);
    keeper.poke();
    await keeper.idle();
    expect(vault.core.canaryDeficit(INDEX_ID)).toBe(0);
    const entries = await vault.entries();
    expect(entries.filter((e) => e.action === 'canary.confirm' && e.outcome === 'allowed')).toHaveLength(1);
  });

  it('backs off while the index fails, then abandons the unconfirmed canary and plants a fresh one', async () => {
    const vault = await setupVault();
    const { url, state } = await indexServer(vault);
    await capture(vault, vault.alice, unitVectors(1)[0]!);
    state.isDown = true;
    const keeper = new CanaryKeeper(vault.core, { url }, silent);
    keeper.poke();
    await keeper.idle();
    expect(state.inserts).toBe(1);
    // Backing off: further pokes do not allocate more slots while the index is failing.
    keeper.poke();
    keeper.poke();
    await keeper.idle();
    expect(state.inserts).toBe(1);
    expect(vault.core.canaryDeficit(INDEX_ID)).toBe(0);

    // Later: the stale canary is abandoned (tombstoned) and replaced once the index is back.
    vault.clock.advance(3 * 60_000);
    state.isDown = false;
    expect(await vault.core.abandonStaleCanaries({ indexId: INDEX_ID, olderThanMs: 2 * 60_000 })).toBe(1);
    expect(vault.core.canaryDeficit(INDEX_ID)).toBe(1);
    const fresh = new CanaryKeeper(vault.core, { url }, silent);
    fresh.poke();
    await fresh.idle();
    expect(vault.core.canaryDeficit(INDEX_ID)).toBe(0);
    const entries = await vault.entries();
    expect(entries.some((e) => e.action === 'canary.abandon' && e.count === 1)).toBe(true);
    expect(entries.filter((e) => e.action === 'canary.confirm' && e.outcome === 'allowed')).toHaveLength(1);
  });
});
