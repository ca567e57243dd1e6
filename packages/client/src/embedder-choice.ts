import { homedir } from 'node:os';
import {
  DEFAULT_BM25_DIM,
  DEFAULT_MODEL_DTYPE,
  MODEL_DTYPES,
  bm25EmbedderId,
  createBm25Embedder,
  createLexicalEmbedder,
  createOpenAiEmbedder,
  createTransformersEmbedder,
  isEmbedError,
  isModelEmbedder,
  lexicalEmbedderId,
  type Embedder,
  type ModelDtype,
} from '@rune/embed';
import { z } from 'zod';
import { RuneClientError } from './errors.js';
import type { JsonHttpClient } from './http.js';
import type { EmbedderKind, EmbedderSettings, MemberConfig } from './member-config.js';
import { parseAnswer } from './wire.js';

/** Where model settings are resolved: RUNE_OFFLINE, the API key variable, the default model folder. */
export interface EmbedderEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
}

const BM25_ID = /^bm25-hash-v1-d(\d{1,4})$/;
const LEXICAL_ID = /^lexical-hash-v1-d(\d{1,4})$/;
const TRANSFORMERS_ID = /^transformers:(.+):([a-z0-9]+)$/;

/**
 * The embedder to use: the caller's, checked against the config; else the one the config names
 * (its `id`/`dim` are the index's), built from its settings; else the default BM25 embedder.
 * Vectors of another embedder would be stored and searched without error and simply never match,
 * hence the hard refusals.
 *
 * Fallback rule: settings that name a model (transformers, openai) are used only for an index
 * built with that model. For an index built with an offline embedder (bm25, lexical) the offline
 * one is used, model or no model: the only fallback that keeps vectors comparable. For an index
 * built with a model, a model that cannot load fails on first use with its own clear error
 * (EMBED_MODEL_MISSING, EMBED_DOWNLOAD_FAILED …), never a silent switch. Models load lazily.
 */
export function chooseEmbedder(
  config: MemberConfig,
  given?: Embedder,
  environment: EmbedderEnvironment = { env: process.env, homedir: homedir() },
): Embedder {
  const named = config.embedder;
  if (given !== undefined) {
    if (named !== undefined && (given.id !== named.id || given.dim !== named.dim)) {
      throw mismatch(
        `the member config names embedder ${named.id} (d=${named.dim}); got ${given.id} (d=${given.dim})`,
      );
    }
    return given;
  }
  if (named === undefined) return createBm25Embedder({ dim: DEFAULT_BM25_DIM });
  const offline = offlineEmbedderFor(named);
  const kind = named.kind ?? kindOfId(named.id);
  if (offline !== undefined) {
    if (kind === kindOfId(named.id) || kind === 'transformers' || kind === 'openai') return offline;
    throw mismatch(
      `the index was built with embedder ${named.id}, but the member config says kind ${kind ?? ''}`,
    );
  }
  if (kind === 'transformers' || kind === 'openai') {
    const embedder = buildModelEmbedder(kind, named, environment);
    if (embedder.id !== named.id) {
      throw mismatch(
        `the index was built with embedder ${named.id}, but the member config's ${kind} settings make ${embedder.id}`,
      );
    }
    return embedder;
  }
  throw new RuneClientError(
    'EMBEDDER_UNAVAILABLE',
    `the member config names embedder ${named.id} (d=${named.dim}), which this client cannot build from its settings`,
    {
      hint: 'set embedder.kind (bm25, lexical, transformers, openai) and its settings in the member config, or pass an embedder to connect()',
    },
  );
}

/**
 * `chooseEmbedder`, then a model is loaded (or its endpoint probed) now rather than on first use,
 * for status checks and start-up; a failure becomes EMBEDDER_UNAVAILABLE with the model's own hint.
 */
export async function prepareEmbedder(
  config: MemberConfig,
  given?: Embedder,
  environment?: EmbedderEnvironment,
): Promise<Embedder> {
  const embedder = chooseEmbedder(config, given, environment);
  if (!isModelEmbedder(embedder)) return embedder;
  try {
    await embedder.load();
  } catch (err: unknown) {
    if (!isEmbedError(err)) throw err;
    throw new RuneClientError('EMBEDDER_UNAVAILABLE', `embedder ${embedder.id} cannot run: ${err.message}`, {
      hint: err.hint ?? 'check the embedder settings in the member config',
      cause: err,
    });
  }
  return embedder;
}

/** What the index says about itself (GET /v1/indexes/:id); only the embedder fields are read. */
const indexDescriptionSchema = z.object({ embedderId: z.string(), dim: z.int() });

/**
 * Refuses an embedder other than the one the index was created with (EMBEDDER_MISMATCH). The index
 * is not trusted for secrecy, but a lie here can only make the client refuse to work.
 */
export async function checkIndexEmbedder(
  index: JsonHttpClient,
  indexId: string,
  embedder: Embedder,
): Promise<void> {
  const answer = await index.get(`/v1/indexes/${encodeURIComponent(indexId)}`);
  const described = parseAnswer(indexDescriptionSchema, answer, 'index', 'index description');
  if (described.embedderId !== embedder.id || described.dim !== embedder.dim) {
    throw mismatch(
      `index ${indexId} was built with embedder ${described.embedderId} (d=${described.dim}); ` +
        `this client embeds with ${embedder.id} (d=${embedder.dim})`,
    );
  }
}

/** The offline embedder an id names, when the id is one of theirs at a dimension they accept. */
function offlineEmbedderFor(named: EmbedderSettings): Embedder | undefined {
  const bm25 = BM25_ID.exec(named.id);
  if (bm25 !== null && bm25EmbedderId(named.dim) === named.id)
    return buildOrUndefined(() => createBm25Embedder({ dim: named.dim }));
  const lexical = LEXICAL_ID.exec(named.id);
  if (lexical !== null && lexicalEmbedderId(named.dim) === named.id)
    return buildOrUndefined(() => createLexicalEmbedder({ dim: named.dim }));
  return undefined;
}

function buildOrUndefined(build: () => Embedder): Embedder | undefined {
  try {
    return build();
  } catch (err: unknown) {
    if (isEmbedError(err, 'EMBED_INVALID_OPTIONS')) return undefined;
    throw err;
  }
}

function kindOfId(id: string): EmbedderKind | undefined {
  if (BM25_ID.test(id)) return 'bm25';
  if (LEXICAL_ID.test(id)) return 'lexical';
  if (id.startsWith('transformers:')) return 'transformers';
  if (id.startsWith('openai:')) return 'openai';
  return undefined;
}

function buildModelEmbedder(
  kind: 'transformers' | 'openai',
  named: EmbedderSettings,
  environment: EmbedderEnvironment,
): Embedder {
  const prefixes = {
    ...(named.queryPrefix === undefined ? {} : { queryPrefix: named.queryPrefix }),
    ...(named.documentPrefix === undefined ? {} : { documentPrefix: named.documentPrefix }),
  };
  try {
    if (kind === 'transformers') {
      // An id alone (transformers:<model>:<dtype>) is enough: model and dtype come from it.
      const fromId = TRANSFORMERS_ID.exec(named.id);
      const idDtype = fromId?.[2];
      const dtype: ModelDtype = named.dtype ?? MODEL_DTYPES.find((d) => d === idDtype) ?? DEFAULT_MODEL_DTYPE;
      return createTransformersEmbedder({
        model: named.model ?? fromId?.[1] ?? '',
        dtype,
        dim: named.dim,
        allowDownload: named.allowDownload === true,
        environment,
        ...(named.modelDir === undefined ? {} : { modelDir: named.modelDir }),
        ...prefixes,
      });
    }
    if (named.baseUrl === undefined || named.model === undefined) {
      throw new RuneClientError(
        'EMBEDDER_UNAVAILABLE',
        `embedder ${named.id} needs baseUrl and model settings`,
        {
          hint: 'add embedder.baseUrl (e.g. http://localhost:11434 for Ollama) and embedder.model to the member config',
        },
      );
    }
    return createOpenAiEmbedder({
      baseUrl: named.baseUrl,
      model: named.model,
      dim: named.dim,
      ...(named.timeoutMs === undefined ? {} : { timeoutMs: named.timeoutMs }),
      ...(named.apiKeyEnv === undefined ? {} : { apiKey: apiKeyFrom(named.apiKeyEnv, environment) }),
      ...prefixes,
    });
  } catch (err: unknown) {
    if (!isEmbedError(err)) throw err;
    throw new RuneClientError('EMBEDDER_UNAVAILABLE', `embedder ${named.id}: ${err.message}`, {
      hint: err.hint ?? 'fix the embedder settings in the member config',
      cause: err,
    });
  }
}

function apiKeyFrom(variable: string, environment: EmbedderEnvironment): string {
  const key = environment.env[variable];
  if (key === undefined || key === '') {
    throw new RuneClientError(
      'EMBEDDER_UNAVAILABLE',
      `the member config reads the embeddings API key from ${variable}, which is not set`,
      { hint: `export ${variable}=… in the environment that runs rune (the key never goes in the config)` },
    );
  }
  return key;
}

function mismatch(message: string): RuneClientError {
  return new RuneClientError('EMBEDDER_MISMATCH', message, {
    hint: 'use the embedder the index was created with (embedder in the member config); vectors of different embedders never match',
  });
}
