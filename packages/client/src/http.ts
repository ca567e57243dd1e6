import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { FRAME_CONTENT_TYPE, decodeFrame, encodeFrame } from '@rune/protocol';
import { RuneClientError, codeOf, type ServiceName } from './errors.js';
import { hintFor } from './hints.js';

export const DEFAULT_TIMEOUT_MS = 30_000;
/** Enough for a search answer over ~100k records (a block's scores are ~37 KB of base64url). */
/** A frame a service answered with: a JSON head and raw blobs (search results' score blocks). */
export class FrameAnswer {
  readonly json: unknown;
  readonly blobs: Uint8Array[];
  constructor(frame: { json: unknown; blobs: Uint8Array[] }) {
    this.json = frame.json;
    this.blobs = frame.blobs;
  }
}

const ANSWER_FRAME_LIMITS = { maxJsonBytes: 1024 * 1024, maxBlobs: 16_384, maxBlobBytes: 1024 * 1024 };

export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const USER_AGENT = 'rune-client/0.1';

export interface JsonHttpClientOptions {
  readonly service: ServiceName;
  readonly baseUrl: string;
  /** Bearer token. SECURITY: only the Vault's client carries one; the index must never see it. */
  readonly token?: string;
  /** PEM of a private CA; it then replaces the system roots for this service. */
  readonly caCert?: string;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
}

export interface RequestOptions {
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
}

/** Certificate-verification failures of Node/OpenSSL: the peer is not who the URL says, or not provably. */
const TLS_UNTRUSTED_CODES =
  /^(?:DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|CERT_[A-Z_]+|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH)$/;

/**
 * A small JSON-over-HTTP(S) client on node:http/https: one keep-alive agent per service, a total
 * deadline per request, a response size cap, and the services' `{ error: { code, message } }`
 * bodies turned into RuneClientErrors with a recovery hint. Returns parsed JSON as `unknown`;
 * callers validate it.
 *
 * SECURITY: certificates are always verified (there is no option to turn that off), and redirects
 * are not followed, so the bearer token only ever goes to the configured origin.
 */
export class JsonHttpClient {
  readonly service: ServiceName;
  readonly #base: URL;
  readonly #token: string | undefined;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;

  constructor(options: JsonHttpClientOptions) {
    this.service = options.service;
    this.#base = new URL(options.baseUrl);
    if (this.#base.protocol !== 'https:' && this.#base.protocol !== 'http:') {
      throw new TypeError(`${options.service} URL must be http(s), got ${this.#base.protocol}`);
    }
    this.#token = options.token;
    this.#agent =
      this.#base.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, ...(options.caCert === undefined ? {} : { ca: options.caCert }) })
        : new HttpAgent({ keepAlive: true });
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  get(path: string, options: RequestOptions = {}): Promise<unknown> {
    return this.#request('GET', path, undefined, options);
  }

  post(path: string, body: unknown, options: RequestOptions = {}): Promise<unknown> {
    return this.#request('POST', path, Buffer.from(JSON.stringify(body), 'utf8'), options);
  }

  /** POSTs JSON and asks for a frame; answers a FrameAnswer, or parsed JSON from a service without frames. */
  postAcceptingFrame(path: string, body: unknown, options: RequestOptions = {}): Promise<unknown> {
    return this.#request('POST', path, Buffer.from(JSON.stringify(body), 'utf8'), options, {
      accept: `${FRAME_CONTENT_TYPE}, application/json;q=0.5`,
    });
  }

  /** POSTs a frame (a JSON head plus raw blobs) and reads a JSON answer. */
  postFrame(
    path: string,
    head: unknown,
    blobs: readonly Uint8Array[],
    options: RequestOptions = {},
  ): Promise<unknown> {
    return this.#request('POST', path, Buffer.from(encodeFrame(head, blobs)), options, {
      contentType: FRAME_CONTENT_TYPE,
    });
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.#agent.destroy();
  }

  /** The URL of `path` under the base URL, keeping any path prefix the base has (a reverse proxy's). */
  urlOf(path: string): URL {
    const url = new URL(this.#base);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    return url;
  }

  #request(
    method: string,
    path: string,
    payload: Buffer | undefined,
    options: RequestOptions,
    media: { accept?: string; contentType?: string } = {},
  ): Promise<unknown> {
    const url = this.urlOf(path);
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const maxBytes = options.maxResponseBytes ?? this.#maxResponseBytes;
    const headers: Record<string, string | number> = {
      accept: media.accept ?? 'application/json',
      'user-agent': USER_AGENT,
    };
    if (payload !== undefined) {
      headers['content-type'] = media.contentType ?? 'application/json';
      headers['content-length'] = payload.byteLength;
    }
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;

    return new Promise<unknown>((resolve, reject) => {
      let isSettled = false;
      const fail = (err: unknown) => {
        if (isSettled) return;
        isSettled = true;
        clearTimeout(timer);
        reject(this.#networkError(err, url));
      };
      const req = send(url, { method, headers, agent: this.#agent }, (res) => {
        const tooLarge = () =>
          new RuneClientError('RESPONSE_TOO_LARGE', `the ${this.service} sent more than ${maxBytes} bytes`, {
            service: this.service,
            hint: 'the answer exceeds the client limit; ask for fewer results',
          });
        if (Number(res.headers['content-length'] ?? 0) > maxBytes) {
          req.destroy(tooLarge());
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > maxBytes) req.destroy(tooLarge());
          else chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () => {
          if (isSettled) return;
          isSettled = true;
          clearTimeout(timer);
          try {
            resolve(this.#interpret(res.statusCode ?? 0, res.headers, Buffer.concat(chunks)));
          } catch (err: unknown) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      });
      const timer = setTimeout(() => {
        req.destroy(
          new RuneClientError(
            this.service === 'vault' ? 'VAULT_TIMEOUT' : 'INDEX_TIMEOUT',
            `the ${this.service} at ${url.origin} did not answer within ${timeoutMs} ms`,
            { service: this.service, hint: `check that the ${this.service} is up and reachable, then retry` },
          ),
        );
      }, timeoutMs);
      req.on('error', fail);
      req.end(payload);
    });
  }

  #interpret(status: number, headers: IncomingHttpHeaders, body: Buffer): unknown {
    if (status >= 200 && status < 300 && (headers['content-type'] ?? '').startsWith(FRAME_CONTENT_TYPE)) {
      try {
        return new FrameAnswer(decodeFrame(body, ANSWER_FRAME_LIMITS));
      } catch (err: unknown) {
        throw this.#invalid(`a malformed frame (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    const json = parseJson(body);
    if (status >= 200 && status < 300) {
      if (json === undefined) throw this.#invalid(`HTTP ${status} with a body that is not JSON`);
      return json;
    }
    const refusal = errorBodyOf(json);
    if (refusal !== undefined) {
      const retryAfterMs = retryAfterOf(headers['retry-after']);
      const hint = hintFor(this.service, refusal.code, retryAfterMs);
      throw new RuneClientError(refusal.code, `the ${this.service} refused the request: ${refusal.message}`, {
        status,
        service: this.service,
        ...(hint === undefined ? {} : { hint }),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
    // Not a Rune answer: a reverse proxy that cannot reach the service, or a wrong URL.
    if (status === 502 || status === 503 || status === 504) {
      throw new RuneClientError(
        this.#unreachableCode(),
        `the ${this.service} is unavailable (HTTP ${status})`,
        {
          status,
          service: this.service,
          hint: `the ${this.service} or the proxy in front of it is down; retry shortly`,
        },
      );
    }
    throw this.#invalid(`HTTP ${status} without a Rune error body`, status);
  }

  #invalid(detail: string, status?: number): RuneClientError {
    return new RuneClientError(
      this.service === 'vault' ? 'VAULT_RESPONSE_INVALID' : 'INDEX_RESPONSE_INVALID',
      `unexpected answer from the ${this.service}: ${detail}`,
      {
        service: this.service,
        ...(status === undefined ? {} : { status }),
        hint: `check ${this.service === 'vault' ? 'vaultUrl' : 'indexUrl'} in your member config points at a Rune ${this.service}`,
      },
    );
  }

  #unreachableCode(): 'VAULT_UNREACHABLE' | 'INDEX_UNREACHABLE' {
    return this.service === 'vault' ? 'VAULT_UNREACHABLE' : 'INDEX_UNREACHABLE';
  }

  #networkError(err: unknown, url: URL): RuneClientError {
    if (err instanceof RuneClientError) return err;
    const code = codeOf(err);
    if (code !== undefined && TLS_UNTRUSTED_CODES.test(code)) {
      return new RuneClientError(
        'TLS_UNTRUSTED',
        `the ${this.service} at ${url.origin} presented a certificate that does not verify (${code})`,
        {
          service: this.service,
          hint: 'if your team uses a private CA, put its PEM in caCert of your member config; otherwise check the URL',
          cause: err,
        },
      );
    }
    const isTlsMismatch = code === 'EPROTO' || (code?.startsWith('ERR_SSL_') ?? false);
    return new RuneClientError(
      this.#unreachableCode(),
      `cannot reach the ${this.service} at ${url.origin} (${code ?? String(err)})`,
      {
        service: this.service,
        hint: isTlsMismatch
          ? 'the server does not speak TLS the way the URL says; check https:// versus http://'
          : `check that the ${this.service} is running and that ${url.host} is reachable from this machine`,
        cause: err,
      },
    );
  }
}

function parseJson(body: Buffer): unknown {
  if (body.byteLength === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** `{ error: { code, message } }`, the shape both services answer refusals with. */
function errorBodyOf(json: unknown): { code: string; message: string } | undefined {
  if (typeof json !== 'object' || json === null || !('error' in json)) return undefined;
  const error = json.error;
  if (typeof error !== 'object' || error === null || !('code' in error) || !('message' in error))
    return undefined;
  const { code, message } = error;
  if (typeof code !== 'string' || !/^[A-Z][A-Z0-9_]{0,63}$/.test(code) || typeof message !== 'string') {
    return undefined;
  }
  return { code, message: message.slice(0, 500) };
}

function retryAfterOf(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d{1,6}$/.test(header)) return undefined;
  return Number(header) * 1000;
}
