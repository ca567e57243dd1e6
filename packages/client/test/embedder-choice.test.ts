import type { IncomingMessage } from 'node:http';
import { DEFAULT_BM25_DIM, EmbedError, createLexicalEmbedder, isModelEmbedder } from '@rune/embed';
import { describe, expect, it } from 'vitest';
import { writeTinyBert } from '../../embed/test/fixtures/tiny-bert.js';
import {
  RuneClient,
  chooseEmbedder,
  memberConfigSchema,
  prepareEmbedder,
  type EmbedderSettings,
} from '../src/index.js';
import { caught, sampleConfig, sendJson, startServer, tempDir } from './helpers.js';
import { startStack } from './stack.js';

const OFFLINE = { env: { RUNE_OFFLINE: '1' }, homedir: '/nonexistent' };
const TINY = 'local/tiny-bert';

function withEmbedder(embedder: EmbedderSettings) {
  return sampleConfig({ embedder });
}

async function embedErrorCode(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err: unknown) {
    if (err instanceof EmbedError) return err.code;
    throw err;
  }
  return 'none';
}

describe('chooseEmbedder', () => {
  it('builds the offline embedder the config names, at its dimension', () => {
    const lexical = chooseEmbedder(withEmbedder({ id: 'lexical-hash-v1-d768', dim: 768 }));
    expect([lexical.id, lexical.dim]).toEqual(['lexical-hash-v1-d768', 768]);
    const bm25 = chooseEmbedder(withEmbedder({ id: 'bm25-hash-v1-d512', dim: 512 }));
    expect([bm25.id, bm25.dim]).toEqual(['bm25-hash-v1-d512', 512]);
  });

  it('defaults to the BM25 embedder at DEFAULT_BM25_DIM when the config names none', () => {
    const config = sampleConfig();
    delete config.embedder;
    const embedder = chooseEmbedder(config);
    expect(embedder.id).toBe(`bm25-hash-v1-d${DEFAULT_BM25_DIM}`);
    expect(embedder.dim).toBe(DEFAULT_BM25_DIM);
  });

  it("takes the caller's embedder when it matches the config", () => {
    const given = createLexicalEmbedder();
    expect(chooseEmbedder(sampleConfig(), given)).toBe(given);
  });

  it('refuses a mismatch, a dimension that disagrees with the id, and an unknown embedder', async () => {
    const given = createLexicalEmbedder({ dim: 256 });
    expect((await caught(() => chooseEmbedder(sampleConfig(), given))).code).toBe('EMBEDDER_MISMATCH');
    const skewed = withEmbedder({ id: 'lexical-hash-v1-d384', dim: 256 });
    expect((await caught(() => chooseEmbedder(skewed))).code).toBe('EMBEDDER_UNAVAILABLE');
    const model = withEmbedder({ id: 'bge-small-en-v1.5', dim: 384 });
    expect((await caught(() => chooseEmbedder(model))).code).toBe('EMBEDDER_UNAVAILABLE');
    const wrongKind = withEmbedder({ id: 'bm25-hash-v1-d384', dim: 384, kind: 'lexical' });
    expect((await caught(() => chooseEmbedder(wrongKind))).code).toBe('EMBEDDER_MISMATCH');
  });

  it('builds a transformers.js model from its id alone, lazily, and runs a provisioned folder', async () => {
    const modelDir = await tempDir();
    await writeTinyBert(modelDir, TINY);
    const settings = { id: `transformers:${TINY}:fp32`, dim: 8, modelDir };
    const embedder = chooseEmbedder(withEmbedder(settings), undefined, OFFLINE);
    expect(isModelEmbedder(embedder) && embedder.isLoaded).toBe(false);
    expect([embedder.id, embedder.dim]).toEqual([`transformers:${TINY}:fp32`, 8]);
    const vector = await embedder.embedQuery('redis cache');
    expect(vector).toHaveLength(8);
    const prepared = await prepareEmbedder(withEmbedder(settings), undefined, OFFLINE);
    expect(isModelEmbedder(prepared) && prepared.isLoaded).toBe(true);
  });

  it('refuses model settings that would make another embedder than the index was built with', async () => {
    const config = withEmbedder({
      id: `transformers:${TINY}:fp32`,
      dim: 8,
      kind: 'transformers',
      model: TINY,
      dtype: 'q8',
    });
    const err = await caught(() => chooseEmbedder(config, undefined, OFFLINE));
    expect(err.code).toBe('EMBEDDER_MISMATCH');
    expect(err.message).toContain(`settings make transformers:${TINY}:q8`);
  });

  it('falls back to the offline embedder only when the index was built with it', async () => {
    const modelDir = await tempDir();
    const model = { kind: 'transformers', model: 'Xenova/multilingual-e5-small', modelDir } as const;
    // Index built with BM25: the (missing) model is not needed, BM25 runs.
    const fallback = chooseEmbedder(
      withEmbedder({ id: 'bm25-hash-v1-d1024', dim: 1024, ...model }),
      undefined,
      OFFLINE,
    );
    expect(fallback.id).toBe('bm25-hash-v1-d1024');
    expect(await fallback.embedQuery('which database')).toHaveLength(1024);
    // Index built with the model: a clear error naming the folder, never a silent switch.
    const strict = withEmbedder({ id: 'transformers:Xenova/multilingual-e5-small:q8', dim: 384, ...model });
    const lazy = chooseEmbedder(strict, undefined, OFFLINE);
    expect(await embedErrorCode(() => lazy.embedQuery('which database'))).toBe('EMBED_MODEL_MISSING');
    const err = await caught(() => prepareEmbedder(strict, undefined, OFFLINE));
    expect(err.code).toBe('EMBEDDER_UNAVAILABLE');
    expect(err.message).toContain(modelDir);
    expect(err.hint).toContain(`${modelDir}/Xenova/multilingual-e5-small/`);
  });

  it('builds an OpenAI-compatible embedder with the key from the named variable, never from the file', async () => {
    const auth: (string | undefined)[] = [];
    const origin = await startServer((req: IncomingMessage, res) => {
      auth.push(req.headers.authorization);
      req.resume();
      req.on('end', () => {
        sendJson(res, 200, { data: [{ index: 0, embedding: [3, 4, 0, 0] }] });
      });
    });
    const settings = {
      id: `openai:${new URL(origin).host}:nomic-embed-text`,
      dim: 4,
      kind: 'openai',
      baseUrl: origin,
      model: 'nomic-embed-text',
      apiKeyEnv: 'RUNE_TEST_EMBED_KEY',
    } as const;
    const missing = await caught(() => chooseEmbedder(withEmbedder(settings), undefined, OFFLINE));
    expect(missing.code).toBe('EMBEDDER_UNAVAILABLE');
    expect(missing.message).toContain('RUNE_TEST_EMBED_KEY');
    const env = { env: { RUNE_TEST_EMBED_KEY: 'sk-from-env' }, homedir: '/nonexistent' };
    const embedder = chooseEmbedder(withEmbedder(settings), undefined, env);
    const vector = await embedder.embedQuery('q');
    [0.6, 0.8, 0, 0].forEach((x, i) => {
      expect(vector[i]).toBeCloseTo(x, 6);
    });
    expect(auth).toEqual(['Bearer sk-from-env']);
    const elsewhere = { ...settings, baseUrl: 'http://localhost:11434' };
    expect((await caught(() => chooseEmbedder(withEmbedder(elsewhere), undefined, env))).code).toBe(
      'EMBEDDER_MISMATCH',
    );
  });
});

describe('the member config embedder settings', () => {
  const parse = (embedder: unknown) => memberConfigSchema.safeParse({ ...sampleConfig(), embedder });

  it('accepts each kind with its settings, and the old {id, dim} form', () => {
    expect(parse({ id: 'lexical-hash-v1-d384', dim: 384 }).success).toBe(true);
    expect(
      parse({ id: 'x', dim: 384, kind: 'transformers', model: 'a/b', dtype: 'q8', allowDownload: true })
        .success,
    ).toBe(true);
    expect(
      parse({
        id: 'x',
        dim: 768,
        kind: 'openai',
        baseUrl: 'http://localhost:11434',
        model: 'nomic-embed-text',
        apiKeyEnv: 'OPENAI_API_KEY',
      }).success,
    ).toBe(true);
  });

  it('refuses a raw API key (without echoing it), plain http off loopback, and missing settings', () => {
    const withKey = parse({
      id: 'x',
      dim: 8,
      kind: 'openai',
      baseUrl: 'https://api.openai.com',
      model: 'm',
      apiKey: 'sk-secret',
    });
    expect(withKey.success).toBe(false);
    expect(JSON.stringify(withKey.error?.issues)).toContain('apiKeyEnv');
    expect(JSON.stringify(withKey.error?.issues)).not.toContain('sk-secret');
    expect(
      parse({ id: 'x', dim: 8, kind: 'openai', baseUrl: 'http://10.0.0.5:11434', model: 'm' }).success,
    ).toBe(false);
    expect(parse({ id: 'x', dim: 8, kind: 'openai', model: 'm' }).success).toBe(false);
    expect(parse({ id: 'x', dim: 8, kind: 'transformers' }).success).toBe(false);
  });
});

describe('RuneClient against a real Vault and index: the index embedder check', () => {
  it('refuses to capture or recall with an embedder the index was not built with, and stores nothing', async () => {
    const stack = await startStack();
    // The index was created with lexical-hash-v1-d384; BM25 at the same dimension passes the Vault's dim check.
    const wrong = { ...stack.alice, embedder: { id: 'bm25-hash-v1-d384', dim: 384 } };
    const client = await RuneClient.connect(wrong);
    try {
      const err = await caught(() => client.capture({ insight: 'We chose Postgres for the ledger' }));
      expect(err.code).toBe('EMBEDDER_MISMATCH');
      expect(err.message).toContain('index team_main was built with embedder lexical-hash-v1-d384 (d=384)');
      expect(err.message).toContain('bm25-hash-v1-d384');
      expect(err.hint).toContain('embedder the index was created with');
      expect((await caught(() => client.recall('ledger database'))).code).toBe('EMBEDDER_MISMATCH');
    } finally {
      client.close();
    }
    const right = await RuneClient.connect(stack.alice);
    try {
      expect((await right.recall('ledger database', { k: 3 })).hits).toEqual([]);
    } finally {
      right.close();
    }
  });
});
