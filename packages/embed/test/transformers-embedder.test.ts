import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createTransformersEmbedder,
  defaultModelDir,
  type TransformersEmbedderOptions,
} from '../src/index.js';
import { expectedTinyEmbedding, tinyTokenIds, writeTinyBert, TINY_HIDDEN } from './fixtures/tiny-bert.js';
import { deadOrigin, embedErrorOf, expectVectorClose, startServer, tempDir } from './model-helpers.js';

const MODEL = 'local/tiny-bert';
const ONLINE = { env: {}, homedir: '/nonexistent' };
const OFFLINE = { env: { RUNE_OFFLINE: '1' }, homedir: '/nonexistent' };

/** A model folder holding the generated tiny BERT (fp32 weights). */
async function provisioned(options: Parameters<typeof writeTinyBert>[2] = {}): Promise<string> {
  const dir = await tempDir();
  await writeTinyBert(dir, MODEL, options);
  return dir;
}

function tiny(modelDir: string, extra: Partial<TransformersEmbedderOptions> = {}) {
  return createTransformersEmbedder({
    model: MODEL,
    modelDir,
    dtype: 'fp32',
    environment: OFFLINE,
    ...extra,
  });
}

/** A fake Hugging Face Hub on 127.0.0.1 serving `files` as /{model}/resolve/main/{file}; counts requests. */
async function fakeHub(files: string, status = 200) {
  const requests: string[] = [];
  const origin = await startServer((req, res) => {
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
    const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
    const match = /^\/(.+?)\/resolve\/main\/(.+)$/.exec(path);
    if (status !== 200 || match === null) {
      res.writeHead(status === 200 ? 404 : status).end();
      return;
    }
    readFile(join(files, ...(match[1] ?? '').split('/'), ...(match[2] ?? '').split('/'))).then(
      (bytes) => res.writeHead(200, { 'content-length': bytes.length }).end(bytes),
      () => res.writeHead(404).end(),
    );
  });
  return { origin, requests };
}

describe('createTransformersEmbedder with a generated model (no network)', () => {
  it('loads the model from its folder offline on first use: mean pooling, then L2 normalisation', async () => {
    const embedder = tiny(await provisioned());
    expect(embedder.id).toBe('transformers:local/tiny-bert:fp32');
    expect(embedder.isLoaded).toBe(false);
    const vector = await embedder.embedDocument('We chose Postgres for the ledger');
    expect(embedder.isLoaded).toBe(true);
    expect(embedder.dim).toBe(TINY_HIDDEN);
    const want = expectedTinyEmbedding(tinyTokenIds(['we', 'chose', 'postgres', 'for', 'the', 'ledger']));
    expectVectorClose(vector, want);
  });

  it('embeds batches like single texts, and puts the configured prefixes in front', async () => {
    const embedder = tiny(await provisioned(), { queryPrefix: 'which ', documentPrefix: 'the ' });
    const [a, b] = await embedder.embedDocuments(['redis cache', 'kafka queue']);
    const single = await embedder.embedDocument('kafka queue');
    expectVectorClose(b ?? [], single);
    const wantDoc = expectedTinyEmbedding(tinyTokenIds(['the', 'redis', 'cache']));
    expectVectorClose(a ?? [], wantDoc);
    const query = await embedder.embedQuery('database');
    const wantQuery = expectedTinyEmbedding(tinyTokenIds(['which', 'database']));
    expectVectorClose(query, wantQuery);
  });

  it('reports the configured dimension before loading, and refuses a model of another width on load', async () => {
    const dir = await provisioned();
    expect(tiny(dir, { dim: TINY_HIDDEN }).dim).toBe(TINY_HIDDEN);
    const wrong = tiny(dir, { dim: 384 });
    const err = await embedErrorOf(() => wrong.load());
    expect(err.code).toBe('EMBED_DIM_MISMATCH');
    expect(err.message).toContain('makes 8-dimensional vectors; the index expects 384');
    expect(wrong.isLoaded).toBe(false);
    expect((await embedErrorOf(() => Promise.resolve(tiny(dir).dim))).code).toBe('EMBED_MODEL_MISSING');
  });

  it('offline, a missing model fails fast, names the folder and how to provision it, and asks no host', async () => {
    const dir = await tempDir();
    const hub = await fakeHub(await provisioned());
    const embedder = tiny(dir, { allowDownload: true, remoteHost: hub.origin });
    const err = await embedErrorOf(() => embedder.embedQuery('which database'));
    expect(err.code).toBe('EMBED_MODEL_MISSING');
    expect(err.message).toContain(dir);
    expect(err.message).toContain('RUNE_OFFLINE is set');
    expect(err.hint).toContain(`${dir}/${MODEL}/`);
    expect(err.hint).toContain('onnx/model.onnx');
    expect(hub.requests).toEqual([]);
    // The same without RUNE_OFFLINE but without allowDownload.
    const notAllowed = tiny(dir, { environment: ONLINE, remoteHost: hub.origin });
    const err2 = await embedErrorOf(() => notAllowed.load());
    expect(err2.code).toBe('EMBED_MODEL_MISSING');
    expect(err2.message).toContain('downloads are not allowed');
    expect(hub.requests).toEqual([]);
  });

  it('does not cache a failed load: provisioning the folder afterwards makes the same embedder work', async () => {
    const dir = await tempDir();
    const embedder = tiny(dir);
    expect((await embedErrorOf(() => embedder.load())).code).toBe('EMBED_MODEL_MISSING');
    await writeTinyBert(dir, MODEL);
    await embedder.load();
    expect(embedder.dim).toBe(TINY_HIDDEN);
  });

  it('downloads a missing model once into the folder when allowed, then runs offline from it', async () => {
    const hub = await fakeHub(await provisioned());
    const dir = await tempDir();
    const online = tiny(dir, { environment: ONLINE, allowDownload: true, remoteHost: hub.origin });
    const fetched = await online.embedDocument('redis cache');
    expect(hub.requests.length).toBeGreaterThan(0);
    expect((await stat(join(dir, MODEL, 'onnx', 'model.onnx'))).size).toBeGreaterThan(0);
    const seen = hub.requests.length;
    const offline = tiny(dir, { remoteHost: hub.origin });
    expect(Array.from(await offline.embedDocument('redis cache'))).toEqual(Array.from(fetched));
    expect(hub.requests.length).toBe(seen);
  });

  it('reports a failed download with the host and the reason', async () => {
    const dir = await tempDir();
    const dead = await deadOrigin();
    const unreachable = tiny(dir, { environment: ONLINE, allowDownload: true, remoteHost: dead });
    const err = await embedErrorOf(() => unreachable.load());
    expect(err.code).toBe('EMBED_DOWNLOAD_FAILED');
    expect(err.message).toContain(dead);
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.hint).toContain('RUNE_OFFLINE=1');

    const broken = await fakeHub(dir, 500);
    const failing = tiny(await tempDir(), {
      environment: ONLINE,
      allowDownload: true,
      remoteHost: broken.origin,
    });
    const err500 = await embedErrorOf(() => failing.load());
    expect(err500.code).toBe('EMBED_DOWNLOAD_FAILED');
    expect(err500.message).toContain('HTTP 500');

    const empty = await fakeHub(dir);
    const unknown = tiny(await tempDir(), {
      environment: ONLINE,
      allowDownload: true,
      remoteHost: empty.origin,
    });
    expect((await embedErrorOf(() => unknown.load())).code).toBe('EMBED_DOWNLOAD_FAILED');
  });

  it('refuses corrupt weights with EMBED_MODEL_INVALID, naming the folder', async () => {
    const dir = await provisioned({ corruptModel: true });
    const err = await embedErrorOf(() => tiny(dir).load());
    expect(err.code).toBe('EMBED_MODEL_INVALID');
    expect(err.message).toContain(dir);
  });

  it('refuses an empty text, a path-like model id and an unknown dtype', async () => {
    const embedder = tiny(await provisioned());
    expect((await embedErrorOf(() => embedder.embedDocument('  '))).code).toBe('EMBED_EMPTY_TEXT');
    for (const model of ['../etc', '/abs/path', 'a/b/c', 'org/..']) {
      expect(() => createTransformersEmbedder({ model })).toThrow(/model id/);
    }
    expect(() => tiny('/x', { dtype: 'fp64' as 'fp32' })).toThrow(/dtype/);
  });
});

describe('defaultModelDir', () => {
  it('is rune/models under XDG_CACHE_HOME when absolute, else under ~/.cache', () => {
    expect(defaultModelDir({ env: { XDG_CACHE_HOME: '/var/cache/me' }, homedir: '/home/a' })).toBe(
      '/var/cache/me/rune/models',
    );
    expect(defaultModelDir({ env: { XDG_CACHE_HOME: 'relative' }, homedir: '/home/a' })).toBe(
      '/home/a/.cache/rune/models',
    );
    expect(defaultModelDir({ env: {}, homedir: '/home/a' })).toBe('/home/a/.cache/rune/models');
  });
});
