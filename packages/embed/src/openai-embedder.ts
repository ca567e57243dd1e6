import { EmbedError } from './errors.js';
import { describeFetchError } from './models/fetch-error.js';
import type { ModelEmbedder } from './models/model-embedder.js';
import { endpointUrlOf, readCappedJson } from './models/openai-wire.js';
import { l2Normalize } from './normalize.js';

export const DEFAULT_OPENAI_TIMEOUT_MS = 30_000;
/** Inputs per request; OpenAI accepts 2048, a local Ollama is happier with fewer. */
export const DEFAULT_OPENAI_BATCH = 64;
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,99}$/;
/** Embedded by load(): a real request that proves the endpoint, the key and the model, and gives the dimension. */
const PROBE_TEXT = 'rune';

export interface OpenAiEmbedderOptions {
  /**
   * The server's origin, e.g. https://api.openai.com or http://localhost:11434 (Ollama); requests go
   * to {baseUrl}/v1/embeddings (a baseUrl that already ends in /v1 is used as is). http:// only to
   * a loopback address: the texts sent are the plaintext memories.
   */
  readonly baseUrl: string;
  readonly model: string;
  /** Sent as a bearer token; never logged or put in an error. */
  readonly apiKey?: string;
  /** Dimension the index expects; any other width is refused. Learnt from the first answer otherwise. */
  readonly dim?: number;
  /** Deadline per request, ms (default 30 s). */
  readonly timeoutMs?: number;
  /** Inputs per request (default 64). */
  readonly maxBatch?: number;
  readonly queryPrefix?: string;
  readonly documentPrefix?: string;
  /** Injected for tests; default the global fetch. */
  readonly fetch?: typeof fetch;
}

/** The id recorded with an index: the host that serves the model and the model's name. */
export function openAiEmbedderId(baseUrl: string, model: string): string {
  return `openai:${endpointUrlOf(baseUrl).host}:${model}`;
}

/**
 * Any OpenAI-compatible `/v1/embeddings` endpoint: OpenAI, Ollama, vLLM, LM Studio, llama.cpp's
 * server. Texts go in batches; every vector is checked (count, index, width, finite) and
 * L2-normalised. The dimension is fixed by the first answer (or the `dim` option) and a later
 * answer of another width is refused: vectors of two widths must never share an index.
 */
export function createOpenAiEmbedder(options: OpenAiEmbedderOptions): ModelEmbedder {
  const url = endpointUrlOf(options.baseUrl);
  if (!MODEL_NAME.test(options.model)) {
    throw new EmbedError('EMBED_INVALID_OPTIONS', `model must be a model name such as "nomic-embed-text"`);
  }
  const id = openAiEmbedderId(options.baseUrl, options.model);
  if (id.length > 128) {
    throw new EmbedError('EMBED_INVALID_OPTIONS', 'the host and model name are too long for an embedder id');
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_OPENAI_TIMEOUT_MS;
  const maxBatch = options.maxBatch ?? DEFAULT_OPENAI_BATCH;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || !Number.isSafeInteger(maxBatch) || maxBatch < 1) {
    throw new EmbedError('EMBED_INVALID_OPTIONS', 'timeoutMs and maxBatch must be positive integers');
  }
  const doFetch = options.fetch ?? fetch;
  const where = `${url.origin}${url.pathname}`;
  let knownDim = options.dim;
  let isProbed = false;

  const post = async (inputs: readonly string[]): Promise<Float32Array[]> => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort();
    }, timeoutMs);
    let json: unknown;
    let status: number;
    try {
      const response = await doFetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }),
        },
        body: JSON.stringify({ model: options.model, input: inputs, encoding_format: 'float' }),
        signal: controller.signal,
      });
      status = response.status;
      json = await readCappedJson(response, where);
    } catch (err: unknown) {
      if (err instanceof EmbedError) throw err;
      if (controller.signal.aborted) {
        throw new EmbedError('EMBED_ENDPOINT_TIMEOUT', `${where} did not answer within ${timeoutMs} ms`, {
          hint: 'check that the server is up and not overloaded, or raise timeoutMs in the embedder settings',
          cause: err,
        });
      }
      throw new EmbedError(
        'EMBED_ENDPOINT_UNREACHABLE',
        `cannot reach ${where}: ${describeFetchError(err)}`,
        {
          hint: 'check baseUrl and that the server runs (for Ollama: `ollama serve`)',
          cause: err,
        },
      );
    } finally {
      clearTimeout(timer);
    }
    if (status < 200 || status > 299) throw httpError(status, json, where, options.model);
    return vectorsOf(json, inputs.length, where);
  };

  const checkWidth = (vectors: Float32Array[]): Float32Array[] => {
    for (const vector of vectors) {
      if (knownDim === undefined) knownDim = vector.length;
      if (vector.length !== knownDim) {
        throw new EmbedError(
          'EMBED_DIM_MISMATCH',
          `${where} returned a ${vector.length}-dimensional vector for model ${options.model}; ` +
            `${options.dim === undefined ? 'it returned' : 'the index expects'} ${knownDim} before`,
          { hint: 'the model behind the endpoint changed; use the one the index was created with' },
        );
      }
    }
    isProbed = true;
    return vectors.map((v) => l2Normalize(v));
  };

  const embedMany = async (texts: readonly string[], prefix: string): Promise<Float32Array[]> => {
    for (const text of texts) {
      if (text.trim() === '') throw new EmbedError('EMBED_EMPTY_TEXT', 'the text has nothing to embed');
    }
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += maxBatch) {
      out.push(...checkWidth(await post(texts.slice(i, i + maxBatch).map((t) => prefix + t))));
    }
    return out;
  };
  const embedOne = async (text: string, prefix: string): Promise<Float32Array> => {
    const [vector] = await embedMany([text], prefix);
    if (vector === undefined)
      throw new EmbedError('EMBED_ENDPOINT_RESPONSE_INVALID', `${where} returned nothing`);
    return vector;
  };

  return Object.freeze({
    id,
    get dim(): number {
      if (knownDim === undefined) {
        throw new EmbedError(
          'EMBED_MODEL_MISSING',
          `the dimension of ${options.model} at ${where} is not known yet`,
          {
            hint: 'call load() first, or pass the dimension the index was created with',
          },
        );
      }
      return knownDim;
    },
    get isLoaded(): boolean {
      return isProbed;
    },
    load: async () => {
      await embedMany([PROBE_TEXT], '');
    },
    embedDocument: (text: string) => embedOne(text, options.documentPrefix ?? ''),
    embedQuery: (text: string) => embedOne(text, options.queryPrefix ?? ''),
    embedDocuments: (texts: readonly string[]) => embedMany(texts, options.documentPrefix ?? ''),
  });
}

/** The vectors of an embeddings answer, in input order; anything off is EMBED_ENDPOINT_RESPONSE_INVALID. */
function vectorsOf(json: unknown, count: number, where: string): Float32Array[] {
  const invalid = (detail: string) =>
    new EmbedError(
      'EMBED_ENDPOINT_RESPONSE_INVALID',
      `${where} answered, but not with embeddings: ${detail}`,
      {
        hint: 'check that baseUrl points at an OpenAI-compatible server (its /v1/embeddings route)',
      },
    );
  if (typeof json !== 'object' || json === null || !('data' in json) || !Array.isArray(json.data)) {
    throw invalid('no "data" list');
  }
  const data: unknown[] = json.data;
  if (data.length !== count) throw invalid(`${data.length} embeddings for ${count} inputs`);
  const out: (Float32Array | undefined)[] = new Array<Float32Array | undefined>(count);
  data.forEach((item, position) => {
    if (
      typeof item !== 'object' ||
      item === null ||
      !('embedding' in item) ||
      !Array.isArray(item.embedding)
    ) {
      throw invalid(`data[${position}] has no "embedding" list`);
    }
    const index = 'index' in item ? item.index : position;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count || out[index]) {
      throw invalid(`data[${position}] has a bad or repeated index`);
    }
    const values: unknown[] = item.embedding;
    if (values.length === 0 || !values.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw invalid(`data[${position}].embedding is empty or holds something other than finite numbers`);
    }
    out[index] = Float32Array.from(values as number[]);
  });
  return out.map((v) => v ?? new Float32Array());
}

function httpError(status: number, json: unknown, where: string, model: string): EmbedError {
  const detail = serviceMessage(json);
  const hint =
    status === 401 || status === 403
      ? 'set the API key: put it in the environment variable that apiKeyEnv names (never in the config file)'
      : status === 404
        ? `check baseUrl (requests go to ${where}) and the model name (for Ollama: \`ollama pull ${model}\`)`
        : status === 429
          ? 'the endpoint is rate limiting; retry later'
          : status >= 500
            ? 'the embeddings server failed; retry, or check its logs'
            : 'check the model name and the embedder settings';
  return new EmbedError(
    'EMBED_ENDPOINT_ERROR',
    `${where} refused the embeddings request with HTTP ${status}${detail === undefined ? '' : `: ${detail}`}`,
    { hint },
  );
}

/** The error text of an OpenAI (`{error:{message}}`) or Ollama (`{error:"…"}`) answer, shortened. */
function serviceMessage(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null || !('error' in json)) return undefined;
  const error = json.error;
  const text =
    typeof error === 'string'
      ? error
      : typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string'
        ? error.message
        : undefined;
  return text === undefined ? undefined : text.replace(/\s+/g, ' ').slice(0, 300);
}
