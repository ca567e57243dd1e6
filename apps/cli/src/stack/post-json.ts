import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** One authenticated JSON POST for the stack's own setup calls (index creation and registration). */
export function postJson(
  url: string,
  token: string,
  ca: string | undefined,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  const target = new URL(url);
  const payload = Buffer.from(JSON.stringify(body));
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': payload.byteLength,
        },
        timeout: 30_000,
        ...(ca === undefined ? {} : { ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
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
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer in time`)));
    req.on('error', reject);
    req.end(payload);
  });
}
