import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createOpenAiEmbedder, openAiEmbedderId } from '../src/index.js';
import { cosine, deadOrigin, embedErrorOf, expectVectorClose, startServer } from './model-helpers.js';

const KEY = 'sk-test-secret-key-0123456789';

interface Seen {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: { model: string; input: string[] };
}

/** A deterministic raw (unnormalised) vector of `width` for a text. */
function rawVector(text: string, width: number): number[] {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 16777619) >>> 0;
  return Array.from({ length: width }, (_, i) => 1 + ((h >>> (i % 24)) & 0xff) / 10);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (c: Buffer) => {
      text += c.toString('utf8');
    });
    req.on('end', () => {
      resolve(text);
    });
  });
}

function send(res: ServerResponse, status: number, body: unknown) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A fake OpenAI-compatible server on 127.0.0.1: answers POST /v1/embeddings with `width(call)`-wide
 * vectors (listed in reverse order with their indexes, as the API allows), or with `override`.
 */
async function fakeEndpoint(
  options: {
    width?: (call: number) => number;
    override?: (call: number, body: Seen['body']) => { status: number; body: unknown } | undefined;
  } = {},
) {
  const seen: Seen[] = [];
  const origin = await startServer((req, res) => {
    void readBody(req).then((text) => {
      const body = JSON.parse(text) as Seen['body'];
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization, body });
      const call = seen.length;
      const custom = options.override?.(call, body);
      if (custom !== undefined) {
        send(res, custom.status, custom.body);
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
        send(res, 404, { error: 'no route' });
        return;
      }
      const width = options.width?.(call) ?? 6;
      const data = body.input.map((t, index) => ({
        object: 'embedding',
        index,
        embedding: rawVector(t, width),
      }));
      send(res, 200, { object: 'list', model: body.model, data: data.reverse() });
    });
  });
  return { origin, seen };
}

describe('createOpenAiEmbedder against a local fake server', () => {
  it('posts to /v1/embeddings with the model and key, and returns L2-normalised vectors in input order', async () => {
    const server = await fakeEndpoint();
    const embedder = createOpenAiEmbedder({ baseUrl: server.origin, model: 'nomic-embed-text', apiKey: KEY });
    expect(embedder.id).toBe(`openai:${new URL(server.origin).host}:nomic-embed-text`);
    const [a, b] = await embedder.embedDocuments(['first text', 'second text']);
    expect(server.seen[0]).toMatchObject({
      path: '/v1/embeddings',
      authorization: `Bearer ${KEY}`,
      body: { model: 'nomic-embed-text', input: ['first text', 'second text'] },
    });
    const want = rawVector('first text', 6);
    const n = Math.hypot(...want);
    expectVectorClose(
      a ?? [],
      want.map((x) => x / n),
      6,
    );
    expect(cosine(b ?? new Float32Array(), b ?? new Float32Array())).toBeCloseTo(1, 6);
    expect(embedder.dim).toBe(6);
  });

  it('accepts a baseUrl that already ends in /v1, and sends no key when none is set', async () => {
    const server = await fakeEndpoint();
    const embedder = createOpenAiEmbedder({ baseUrl: `${server.origin}/v1/`, model: 'm' });
    await embedder.embedQuery('hello');
    expect(server.seen[0]).toMatchObject({ path: '/v1/embeddings', authorization: undefined });
  });

  it('splits large batches and puts the configured prefixes in front', async () => {
    const server = await fakeEndpoint();
    const embedder = createOpenAiEmbedder({
      baseUrl: server.origin,
      model: 'm',
      maxBatch: 2,
      documentPrefix: 'search_document: ',
      queryPrefix: 'search_query: ',
    });
    const texts = ['a one', 'b two', 'c three', 'd four', 'e five'];
    const vectors = await embedder.embedDocuments(texts);
    expect(server.seen.map((s) => s.body.input.length)).toEqual([2, 2, 1]);
    expect(server.seen[0]?.body.input[0]).toBe('search_document: a one');
    const single = await embedder.embedDocument('d four');
    expect(Array.from(vectors[3] ?? [])).toEqual(Array.from(single));
    await embedder.embedQuery('where');
    expect(server.seen.at(-1)?.body.input).toEqual(['search_query: where']);
  });

  it('load() probes the endpoint and learns the dimension; before that the dimension is unknown', async () => {
    const server = await fakeEndpoint({ width: () => 12 });
    const embedder = createOpenAiEmbedder({ baseUrl: server.origin, model: 'm' });
    expect(embedder.isLoaded).toBe(false);
    expect((await embedErrorOf(() => Promise.resolve(embedder.dim))).code).toBe('EMBED_MODEL_MISSING');
    await embedder.load();
    expect(embedder.isLoaded).toBe(true);
    expect(embedder.dim).toBe(12);
    expect(server.seen).toHaveLength(1);
  });

  it('refuses a dimension change and a width other than the index expects', async () => {
    const server = await fakeEndpoint({ width: (call) => (call === 1 ? 6 : 8) });
    const embedder = createOpenAiEmbedder({ baseUrl: server.origin, model: 'm' });
    await embedder.embedDocument('first');
    const err = await embedErrorOf(() => embedder.embedDocument('second'));
    expect(err.code).toBe('EMBED_DIM_MISMATCH');
    expect(err.message).toContain('8-dimensional');
    const fixed = createOpenAiEmbedder({ baseUrl: (await fakeEndpoint()).origin, model: 'm', dim: 384 });
    expect(fixed.dim).toBe(384);
    const err2 = await embedErrorOf(() => fixed.embedQuery('q'));
    expect(err2.code).toBe('EMBED_DIM_MISMATCH');
    expect(err2.message).toContain('the index expects 384');
  });

  it("reports HTTP errors with the service's message and a hint, never the key", async () => {
    const server = await fakeEndpoint({
      override: (call) =>
        call === 1
          ? {
              status: 401,
              body: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } },
            }
          : { status: 404, body: { error: 'model "nomic-embed-text" not found, try pulling it first' } },
    });
    const embedder = createOpenAiEmbedder({ baseUrl: server.origin, model: 'nomic-embed-text', apiKey: KEY });
    const unauthorised = await embedErrorOf(() => embedder.embedQuery('q'));
    expect(unauthorised.code).toBe('EMBED_ENDPOINT_ERROR');
    expect(unauthorised.message).toContain('HTTP 401: Incorrect API key provided');
    expect(unauthorised.hint).toContain('apiKeyEnv');
    const missing = await embedErrorOf(() => embedder.embedQuery('q'));
    expect(missing.message).toContain('not found, try pulling it first');
    expect(missing.hint).toContain('ollama pull nomic-embed-text');
    for (const err of [unauthorised, missing]) {
      expect(`${err.message} ${err.hint ?? ''}`).not.toContain(KEY);
    }
  });

  it('refuses answers of the wrong shape with EMBED_ENDPOINT_RESPONSE_INVALID', async () => {
    const answers: unknown[] = [
      'not json at all',
      { data: 'nope' },
      { data: [] },
      { data: [{ index: 0, embedding: ['x'] }] },
      { data: [{ index: 5, embedding: [1, 2] }] },
      { data: [{ index: 0, embedding: [] }] },
    ];
    const server = await fakeEndpoint({ override: (call) => ({ status: 200, body: answers[call - 1] }) });
    const embedder = createOpenAiEmbedder({ baseUrl: server.origin, model: 'm' });
    for (let i = 0; i < answers.length; i++) {
      expect((await embedErrorOf(() => embedder.embedQuery('q'))).code).toBe(
        'EMBED_ENDPOINT_RESPONSE_INVALID',
      );
    }
  });

  it('reports an unreachable server and one that does not answer in time', async () => {
    const dead = await deadOrigin();
    const unreachable = await embedErrorOf(() =>
      createOpenAiEmbedder({ baseUrl: dead, model: 'm' }).embedQuery('q'),
    );
    expect(unreachable.code).toBe('EMBED_ENDPOINT_UNREACHABLE');
    expect(unreachable.message).toContain('ECONNREFUSED');
    const silent = await startServer(() => undefined);
    const slow = createOpenAiEmbedder({ baseUrl: silent, model: 'm', timeoutMs: 150 });
    const timedOut = await embedErrorOf(() => slow.embedQuery('q'));
    expect(timedOut.code).toBe('EMBED_ENDPOINT_TIMEOUT');
    expect(timedOut.message).toContain('150 ms');
  });

  it('refuses plain http off loopback (memories would travel in clear), bad URLs and an empty text', async () => {
    expect(() => createOpenAiEmbedder({ baseUrl: 'http://10.0.0.5:11434', model: 'm' })).toThrow(/https/);
    expect(() => createOpenAiEmbedder({ baseUrl: 'https://u:p@api.example.com', model: 'm' })).toThrow(
      /credentials/,
    );
    expect(() => createOpenAiEmbedder({ baseUrl: 'localhost:11434', model: 'm' })).toThrow();
    expect(openAiEmbedderId('https://api.openai.com/v1', 'text-embedding-3-small')).toBe(
      'openai:api.openai.com:text-embedding-3-small',
    );
    const embedder = createOpenAiEmbedder({ baseUrl: 'http://localhost:11434', model: 'nomic-embed-text' });
    expect((await embedErrorOf(() => embedder.embedDocument(' '))).code).toBe('EMBED_EMPTY_TEXT');
  });
});
