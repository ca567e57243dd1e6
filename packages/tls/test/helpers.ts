import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { TlsError, type TlsErrorCode } from '../src/index.js';

const made: string[] = [];

afterAll(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh directory under the OS temp dir, removed after the test file. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rune-tls-'));
  made.push(dir);
  return dir;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** A fixed clock `days` before the real now (certificates are checked against the real clock). */
export function daysAgo(days: number): () => Date {
  const at = new Date(Date.now() - days * DAY_MS);
  return () => at;
}

export async function expectCode(promise: Promise<unknown>, code: TlsErrorCode): Promise<TlsError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TlsError);
  expect((err as TlsError).code).toBe(code);
  return err as TlsError;
}

export interface Reply {
  readonly status: number;
  readonly body: string;
}

/** One GET with a fresh connection; rejects with the socket or TLS error. */
export function get(url: string, options: RequestOptions = {}): Promise<Reply> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { agent: false, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
