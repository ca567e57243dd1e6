import type { FeatureExtractionPipeline } from '@huggingface/transformers';
import { describeFetchError } from './fetch-error.js';
import type { ModelDtype } from './model-settings.js';

/** What one pipeline load needs; transformers.js reads all of it from its process-wide `env`. */
export interface PipelineRequest {
  readonly model: string;
  readonly dtype: ModelDtype;
  /** Both `env.localModelPath` and `env.cacheDir`: provisioned and downloaded models live together. */
  readonly modelDir: string;
  readonly mayDownload: boolean;
  /** Download host (a Hub mirror), with a trailing slash. */
  readonly remoteHost: string;
  /** Deadline for each download request's response headers; the body may take longer. */
  readonly downloadTimeoutMs: number;
}

export interface LoadedPipeline {
  readonly extract: FeatureExtractionPipeline;
  /** The first failed download request of this load (network error or HTTP status), if any. */
  readonly downloadProblem: string | undefined;
}

export class PipelineLoadError extends Error {
  override readonly name = 'PipelineLoadError';
  readonly downloadProblem: string | undefined;

  constructor(cause: unknown, downloadProblem: string | undefined) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.downloadProblem = downloadProblem;
  }
}

// transformers.js keeps its settings in one global object, so loads run one at a time: each sets
// the env it needs, then builds its pipeline (which keeps its own session and tokenizer).
let queue: Promise<unknown> = Promise.resolve();

/** Loads a feature-extraction pipeline; a failure is a PipelineLoadError naming any download problem. */
export function loadPipeline(request: PipelineRequest): Promise<LoadedPipeline> {
  const run = queue.then(() => loadNow(request));
  queue = run.catch(() => undefined);
  return run;
}

async function loadNow(request: PipelineRequest): Promise<LoadedPipeline> {
  // Imported on first use: the CLI and the MCP server pay for onnxruntime only when a model is used.
  const hf = await import('@huggingface/transformers');
  let downloadProblem: string | undefined;
  const note = (problem: string) => (downloadProblem ??= problem);
  const { env } = hf;
  env.localModelPath = request.modelDir;
  env.cacheDir = request.modelDir;
  env.allowLocalModels = true;
  env.useFSCache = true;
  env.allowRemoteModels = request.mayDownload;
  env.remoteHost = request.remoteHost;
  // Warnings go to stderr, but "local file missing, trying the Hub" is expected noise here.
  env.logLevel = hf.LogLevel.ERROR;
  env.fetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new Error(`no answer within ${request.downloadTimeoutMs} ms`));
    }, request.downloadTimeoutMs);
    try {
      const response = await fetch(input, { ...init, signal: controller.signal });
      if (!response.ok) note(`HTTP ${response.status} from ${String(input)}`);
      return response;
    } catch (err: unknown) {
      note(`${String(input)}: ${describeFetchError(err)}`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    const extract = await hf.pipeline('feature-extraction', request.model, {
      dtype: request.dtype,
      device: 'cpu',
      // Both are part of transformers.js's in-process memo keys, so loads with other folders or
      // download rules never see each other's file lookups.
      cache_dir: request.modelDir,
      local_files_only: !request.mayDownload,
    });
    return { extract, downloadProblem };
  } catch (err: unknown) {
    throw new PipelineLoadError(err, downloadProblem);
  }
}
