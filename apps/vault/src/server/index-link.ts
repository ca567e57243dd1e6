import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Where the Vault reaches the index it plants canaries in. */
export interface IndexLink {
  /** Base URL of the index service, e.g. https://127.0.0.1:50090. */
  readonly url: string;
  /** PEM of a private CA the index's certificate chains to. */
  readonly ca?: string;
}

const TIMEOUT_MS = 30_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

/** One JSON POST to the index; resolves with the status and the parsed body (undefined if not JSON). */
export function postToIndex(
  link: IndexLink,
  path: string,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  const url = new URL(path, link.url);
  const payload = Buffer.from(JSON.stringify(body));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': payload.byteLength },
        timeout: TIMEOUT_MS,
        ...(link.ca === undefined ? {} : { ca: link.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new Error('index response too large'));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`index did not answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}
