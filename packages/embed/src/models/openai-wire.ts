import { EmbedError } from '../errors.js';

/** Largest embeddings answer read: 64 inputs × 4096 floats as JSON text is about 6 MiB. */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

/**
 * The embeddings URL of an OpenAI-compatible server: {baseUrl}/v1/embeddings, or
 * {baseUrl}/embeddings when baseUrl already ends in /v1 (the OpenAI SDKs' convention).
 * SECURITY: the texts sent are plaintext memories, so http:// is accepted only to loopback.
 */
export function endpointUrlOf(baseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new EmbedError(
      'EMBED_INVALID_OPTIONS',
      `baseUrl must be an absolute URL such as http://localhost:11434`,
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    throw new EmbedError(
      'EMBED_INVALID_OPTIONS',
      'baseUrl must use https:// (http:// only to a loopback address: the texts are plaintext memories)',
    );
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new EmbedError('EMBED_INVALID_OPTIONS', 'baseUrl must not hold credentials, a query or a fragment');
  }
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith('/v1') ? `${path}/embeddings` : `${path}/v1/embeddings`;
  return url;
}

/** The answer's JSON, or undefined when it is not JSON; refuses more than MAX_ANSWER_BYTES. */
export async function readCappedJson(response: Response, where: string): Promise<unknown> {
  const tooLarge = () =>
    new EmbedError(
      'EMBED_ENDPOINT_RESPONSE_INVALID',
      `${where} sent an answer over ${MAX_ANSWER_BYTES} bytes`,
      {
        hint: 'lower maxBatch in the embedder settings',
      },
    );
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > MAX_ANSWER_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  for (let part = await reader?.read(); part !== undefined && !part.done; part = await reader?.read()) {
    // undici's body stream yields bytes; its type says any.
    const chunk = part.value as Uint8Array;
    size += chunk.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader?.cancel();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
