import { homedir } from 'node:os';
import type { FeatureExtractionPipeline } from '@huggingface/transformers';
import { EmbedError, isEmbedError } from './errors.js';
import { PipelineLoadError, loadPipeline } from './models/hf-runtime.js';
import type { ModelEmbedder } from './models/model-embedder.js';
import {
  MODEL_DTYPES,
  defaultModelDir,
  isOfflineEnv,
  isValidModelId,
  type ModelDtype,
  type ModelEnvironment,
} from './models/model-settings.js';
import { l2Normalize } from './normalize.js';

export type { ModelEmbedder } from './models/model-embedder.js';

export const DEFAULT_MODEL_DTYPE: ModelDtype = 'q8';
export const DEFAULT_REMOTE_HOST = 'https://huggingface.co/';
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 30_000;
/** Texts per forward pass: padding makes a batch cost its longest text, so batches stay small. */
const MAX_BATCH = 16;
/** Embedded once on load: the model's output width is its dimension. */
const PROBE_TEXT = 'rune';

export interface TransformersEmbedderOptions {
  /** Hugging Face model id, `org/name`, with ONNX weights under `onnx/` (e.g. Xenova/… repos). */
  readonly model: string;
  /** Folder of provisioned and downloaded models (`<dir>/<org>/<name>/`); default defaultModelDir(). */
  readonly modelDir?: string;
  /** Download into modelDir when the model is missing there. RUNE_OFFLINE=1 overrides it. */
  readonly allowDownload?: boolean;
  /** Weight variant: picks the ONNX file (fp32 → model.onnx, q8 → model_quantized.onnx). Default q8. */
  readonly dtype?: ModelDtype;
  /** Dimension the index expects; load() refuses a model of another width. */
  readonly dim?: number;
  /** Prepended to queries / documents, for models trained with them (e5 "query: ", nomic "search_query: "). */
  readonly queryPrefix?: string;
  readonly documentPrefix?: string;
  /** A Hub mirror to download from (default https://huggingface.co/). */
  readonly remoteHost?: string;
  /** Deadline for each download request's response headers (default 30 s). */
  readonly downloadTimeoutMs?: number;
  /** Environment for RUNE_OFFLINE and the default folder; default this process's. */
  readonly environment?: ModelEnvironment;
}

/** The id recorded with an index: the model and its weight variant (quantised weights give other vectors). */
export function transformersEmbedderId(model: string, dtype: ModelDtype): string {
  return `transformers:${model}:${dtype}`;
}

/**
 * A sentence-embedding model run locally by transformers.js (ONNX Runtime on the CPU): mean pooling
 * over the last hidden state, then L2 normalisation. The model comes from one folder that holds
 * both hand-provisioned and downloaded models; it is downloaded there only when allowed and not
 * offline (RUNE_OFFLINE=1), so a machine without network fails fast with a message saying how to
 * provision the folder. Loaded lazily on first use, or by `load()`.
 */
export function createTransformersEmbedder(options: TransformersEmbedderOptions): ModelEmbedder {
  const { model } = options;
  if (!isValidModelId(model)) {
    throw new EmbedError(
      'EMBED_INVALID_OPTIONS',
      `model must be a model id such as "org/name", got "${model}"`,
    );
  }
  const dtype = options.dtype ?? DEFAULT_MODEL_DTYPE;
  if (!(MODEL_DTYPES as readonly string[]).includes(dtype)) {
    throw new EmbedError('EMBED_INVALID_OPTIONS', `dtype must be one of ${MODEL_DTYPES.join(', ')}`);
  }
  const environment = options.environment ?? { env: process.env, homedir: homedir() };
  const modelDir = options.modelDir ?? defaultModelDir(environment);
  const isOffline = isOfflineEnv(environment.env);
  const mayDownload = options.allowDownload === true && !isOffline;
  const id = transformersEmbedderId(model, dtype);
  const queryPrefix = options.queryPrefix ?? '';
  const documentPrefix = options.documentPrefix ?? '';
  const request = {
    model,
    dtype,
    modelDir,
    mayDownload,
    remoteHost: withTrailingSlash(options.remoteHost ?? DEFAULT_REMOTE_HOST),
    downloadTimeoutMs: options.downloadTimeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS,
  };
  const why = { isOffline, allowDownload: options.allowDownload === true };

  let extract: FeatureExtractionPipeline | undefined;
  let loadedDim: number | undefined;
  let loading: Promise<FeatureExtractionPipeline> | undefined;

  const run = async (pipe: FeatureExtractionPipeline, texts: string[]): Promise<Float32Array[]> => {
    const output = await pipe(texts, { pooling: 'mean', normalize: true });
    const [rows, width] = output.dims;
    if (output.dims.length !== 2 || rows !== texts.length || width === undefined || width < 1) {
      throw new EmbedError(
        'EMBED_MODEL_INVALID',
        `model ${model} gave output of shape [${output.dims.join(', ')}] for ${texts.length} texts; ` +
          'expected [texts, dimension] after mean pooling',
        { hint: 'use a sentence-embedding model whose ONNX output is last_hidden_state' },
      );
    }
    // Typed loosely by the library; checked here.
    const data: unknown = output.data;
    if (!(data instanceof Float32Array)) {
      throw new EmbedError('EMBED_MODEL_INVALID', `model ${model} gave ${output.type} output, not float32`);
    }
    return Array.from({ length: rows }, (_, i) => l2Normalize(data.subarray(i * width, (i + 1) * width)));
  };

  const loadOnce = async (): Promise<FeatureExtractionPipeline> => {
    let pipe: FeatureExtractionPipeline;
    try {
      pipe = (await loadPipeline(request)).extract;
    } catch (err: unknown) {
      throw loadFailure(err, request, why);
    }
    let probe: Float32Array[];
    try {
      probe = await run(pipe, [PROBE_TEXT]);
    } catch (err: unknown) {
      await pipe.dispose().catch(() => undefined);
      if (isEmbedError(err)) throw err;
      throw invalidModel(model, modelDir, err);
    }
    const width = probe[0]?.length ?? 0;
    if (options.dim !== undefined && width !== options.dim) {
      await pipe.dispose().catch(() => undefined);
      throw new EmbedError(
        'EMBED_DIM_MISMATCH',
        `model ${model} (${dtype}) makes ${width}-dimensional vectors; the index expects ${options.dim}`,
        { hint: 'use the model (and dtype) the index was created with' },
      );
    }
    loadedDim = width;
    extract = pipe;
    return pipe;
  };

  const ready = (): Promise<FeatureExtractionPipeline> => {
    if (extract !== undefined) return Promise.resolve(extract);
    // A failed load is not cached: provisioning the folder and retrying must work without a restart.
    loading ??= loadOnce().finally(() => {
      loading = undefined;
    });
    return loading;
  };

  const embedMany = async (texts: readonly string[], prefix: string): Promise<Float32Array[]> => {
    for (const text of texts) {
      if (text.trim() === '') throw new EmbedError('EMBED_EMPTY_TEXT', 'the text has nothing to embed');
    }
    const pipe = await ready();
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += MAX_BATCH) {
      out.push(
        ...(await run(
          pipe,
          texts.slice(i, i + MAX_BATCH).map((t) => prefix + t),
        )),
      );
    }
    return out;
  };
  const embedOne = async (text: string, prefix: string): Promise<Float32Array> => {
    const [vector] = await embedMany([text], prefix);
    if (vector === undefined) throw new EmbedError('EMBED_MODEL_INVALID', `model ${model} returned nothing`);
    return vector;
  };

  return Object.freeze({
    id,
    get dim(): number {
      const dim = loadedDim ?? options.dim;
      if (dim === undefined) {
        throw new EmbedError(
          'EMBED_MODEL_MISSING',
          `model ${model} is not loaded yet, so its dimension is unknown`,
          {
            hint: 'call load() first, or pass the dimension the index was created with',
          },
        );
      }
      return dim;
    },
    get isLoaded(): boolean {
      return extract !== undefined;
    },
    load: async () => {
      await ready();
    },
    embedDocument: (text: string) => embedOne(text, documentPrefix),
    embedQuery: (text: string) => embedOne(text, queryPrefix),
    embedDocuments: (texts: readonly string[]) => embedMany(texts, documentPrefix),
  });
}

function loadFailure(
  err: unknown,
  request: { model: string; dtype: ModelDtype; modelDir: string; mayDownload: boolean; remoteHost: string },
  why: { isOffline: boolean; allowDownload: boolean },
): EmbedError {
  const cause = err instanceof PipelineLoadError ? err.cause : err;
  const detail = err instanceof Error ? err.message : String(err);
  const isNotFound = cause instanceof Error && cause.name === 'ModelFileNotFoundError';
  const folder = `${request.modelDir}/${request.model}`;
  const provision =
    `put the model's config.json, tokenizer.json, tokenizer_config.json and ONNX weights ` +
    `(onnx/${onnxFileOf(request.dtype)}) in ${folder}/`;
  if (!request.mayDownload && isNotFound) {
    const reason = why.isOffline
      ? 'RUNE_OFFLINE is set'
      : 'downloads are not allowed (set allowDownload in the embedder settings to fetch it once)';
    return new EmbedError(
      'EMBED_MODEL_MISSING',
      `model ${request.model} (${request.dtype}) is not in ${request.modelDir} and ${reason}: ${detail}`,
      { hint: `${provision}, or run once with network access and allowDownload`, cause },
    );
  }
  const problem = err instanceof PipelineLoadError ? err.downloadProblem : undefined;
  if (request.mayDownload && (problem !== undefined || isNotFound)) {
    return new EmbedError(
      'EMBED_DOWNLOAD_FAILED',
      `could not download model ${request.model} (${request.dtype}) from ${request.remoteHost}: ${problem ?? detail}`,
      {
        hint: `check the network and the model id (it must have ONNX weights), or ${provision}; RUNE_OFFLINE=1 stops download attempts`,
        cause,
      },
    );
  }
  return invalidModel(request.model, request.modelDir, cause);
}

function invalidModel(model: string, modelDir: string, cause: unknown): EmbedError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new EmbedError('EMBED_MODEL_INVALID', `model ${model} in ${modelDir} cannot be used: ${detail}`, {
    hint: `replace ${modelDir}/${model}/ with a complete copy of the model (or delete it to download it again)`,
    cause,
  });
}

/** The ONNX file transformers.js loads for a dtype. */
function onnxFileOf(dtype: ModelDtype): string {
  const suffix: Record<ModelDtype, string> = {
    fp32: '',
    fp16: '_fp16',
    q8: '_quantized',
    int8: '_int8',
    uint8: '_uint8',
    q4: '_q4',
    q4f16: '_q4f16',
    bnb4: '_bnb4',
  };
  return `model${suffix[dtype]}.onnx`;
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
