import { randomBytes } from 'node:crypto';
import { createEngine, generateKeyPair, generateTeamSecret } from '@rune/crypto';
import { publishKey, type PublishedKey } from '@rune/vault/published-key';
import { beforeAll, describe, expect, it } from 'vitest';
import { RuneClient, type MemberConfig } from '../src/index.js';
import { TOKEN, caught, sendJson, startServer, sampleConfig } from './helpers.js';

/** What the Vault publishes for a fresh key set (apps/vault/src/keys/published-key.ts). */
function publishFresh(): PublishedKey {
  const keys = generateKeyPair(createEngine(), 1);
  return publishKey({
    paramSetId: 1,
    publicKey: keys.publicKey,
    secretKey: keys.secretKey,
    teamSecret: generateTeamSecret(),
    signingSeed: randomBytes(32),
    createdAt: 0,
  });
}

/** A fake Vault that serves `published` at GET /v1/keys/public to the member token only. */
async function fakeVault(published: unknown): Promise<string> {
  return startServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      sendJson(res, 401, { error: { code: 'UNAUTHENTICATED', message: 'unauthenticated' } });
    } else if (req.method === 'GET' && req.url === '/v1/keys/public') {
      sendJson(res, 200, published);
    } else {
      sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
    }
  });
}

function configFor(
  base: string,
  published: PublishedKey,
  overrides: Partial<MemberConfig> = {},
): MemberConfig {
  return sampleConfig({
    vaultUrl: base,
    indexUrl: base,
    publicKeyHash: published.publicKeyHash,
    vaultKeyId: published.keyId,
    ...overrides,
  });
}

describe('RuneClient.connect: the published-key pin', () => {
  let genuine: PublishedKey;
  let hostile: PublishedKey;

  beforeAll(() => {
    genuine = publishFresh();
    hostile = publishFresh();
  });

  it('accepts the Vault key that matches both pins', async () => {
    const base = await fakeVault(genuine);
    const client = await RuneClient.connect(configFor(base, genuine));
    expect(client.embedder.id).toBe('lexical-hash-v1-d384');
    expect(client.indexId).toBe('team_main');
    expect(client.isReceiptVerified).toBe(false);
    client.close();
  });

  it('refuses a substituted key (validly signed by another Vault) with KEY_PIN_MISMATCH', async () => {
    const base = await fakeVault(hostile);
    const err = await caught(() => RuneClient.connect(configFor(base, genuine)));
    expect(err.code).toBe('KEY_PIN_MISMATCH');
    expect(err.service).toBe('vault');
    expect(err.hint).toContain('substituting');
  });

  it('refuses the genuine key when the config pins another hash, or another Vault signing key', async () => {
    const base = await fakeVault(genuine);
    const wrongHash = configFor(base, genuine, { publicKeyHash: hostile.publicKeyHash });
    expect((await caught(() => RuneClient.connect(wrongHash))).code).toBe('KEY_PIN_MISMATCH');
    const wrongSigner = configFor(base, genuine, { vaultKeyId: hostile.keyId });
    expect((await caught(() => RuneClient.connect(wrongSigner))).code).toBe('KEY_PIN_MISMATCH');
  });

  it('refuses a record whose signature does not verify with PUBLISHED_KEY_INVALID', async () => {
    const forged = { ...genuine, signature: hostile.signature };
    const base = await fakeVault(forged);
    expect((await caught(() => RuneClient.connect(configFor(base, genuine)))).code).toBe(
      'PUBLISHED_KEY_INVALID',
    );
    const garbage = await fakeVault({ hello: 'world' });
    expect((await caught(() => RuneClient.connect(configFor(garbage, genuine)))).code).toBe(
      'PUBLISHED_KEY_INVALID',
    );
  });

  it("passes the Vault's refusal of the token through", async () => {
    const base = await fakeVault(genuine);
    const err = await caught(() =>
      RuneClient.connect(configFor(base, genuine, { token: `rune_${'x'.repeat(43)}` })),
    );
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED', status: 401, service: 'vault' });
  });

  it('refuses an embedder other than the one the config names with EMBEDDER_MISMATCH', async () => {
    const base = await fakeVault(genuine);
    const err = await caught(() =>
      RuneClient.connect(configFor(base, genuine), {
        embedder: {
          id: 'other',
          dim: 384,
          embedDocument: () => Promise.resolve(new Float32Array(384)),
          embedQuery: () => Promise.resolve(new Float32Array(384)),
        },
      }),
    );
    expect(err.code).toBe('EMBEDDER_MISMATCH');
  });

  it('refuses a malformed indexVerifyKey with CONFIG_INVALID before any request', async () => {
    const err = await caught(() =>
      RuneClient.connect(sampleConfig({ vaultUrl: 'http://127.0.0.1:1', indexVerifyKey: '_'.repeat(43) })),
    );
    expect(err.code).toBe('CONFIG_INVALID');
  });
});
