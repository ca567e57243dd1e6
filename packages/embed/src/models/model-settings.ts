import { isAbsolute, join } from 'node:path';

/** ONNX weight variants transformers.js can load; each picks a file suffix (fp32 → model.onnx, q8 → model_quantized.onnx). */
export const MODEL_DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;
export type ModelDtype = (typeof MODEL_DTYPES)[number];

/**
 * A model id is `name` or `org/name` as on the Hugging Face Hub. It becomes a path under the model
 * folder and a URL path at the download host, so nothing else (no `..`, no absolute path) is accepted.
 */
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(?:\/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$/;

export function isValidModelId(model: string): boolean {
  return MODEL_ID.test(model) && !model.split('/').some((part) => part.includes('..'));
}

export interface ModelEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
}

/** Rune's model folder: `$XDG_CACHE_HOME/rune/models`, else `~/.cache/rune/models`. */
export function defaultModelDir({ env, homedir }: ModelEnvironment): string {
  const xdg = env['XDG_CACHE_HOME'];
  // XDG requires an absolute path; a relative one is ignored, as the spec says.
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir, '.cache');
  return join(base, 'rune', 'models');
}

/** RUNE_OFFLINE=1 (or true/yes) forbids every download, whatever the embedder settings say. */
export function isOfflineEnv(env: Readonly<Record<string, string | undefined>>): boolean {
  return /^(?:1|true|yes)$/i.test(env['RUNE_OFFLINE'] ?? '');
}
