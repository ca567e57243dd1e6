import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { TlsError } from './errors.js';

const CERT_BLOCK_RE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const BEGIN_RE = /-----BEGIN [A-Z0-9 ]+-----/g;
const END_RE = /-----END [A-Z0-9 ]+-----/g;
// PKCS#8 and legacy OpenSSL encryption markers; node reports both only as "interrupted".
const ENCRYPTED_KEY_RE = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/;

function countMatches(text: string, re: RegExp): number {
  return text.match(re)?.length ?? 0;
}

/** Reads a PEM file as text; a missing or unreadable file names itself and the fix. */
export async function readPemFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err: unknown) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new TlsError(
      'TLS_FILE_UNREADABLE',
      `cannot read the ${what} file ${path} (${reason}); check the path and that this user may read it`,
      { cause: err },
    );
  }
}

/**
 * Every certificate in a PEM file, in file order. A BEGIN without its END (a truncated copy) is
 * refused rather than silently serving a shorter chain.
 */
export function parseCertificates(text: string, path: string): X509Certificate[] {
  const blocks = text.match(CERT_BLOCK_RE) ?? [];
  if (blocks.length === 0 || countMatches(text, BEGIN_RE) !== countMatches(text, END_RE)) {
    throw badPem(path, 'certificate', 'it holds no complete "BEGIN CERTIFICATE" … "END CERTIFICATE" block');
  }
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err: unknown) {
      throw badPem(path, 'certificate', `certificate #${i + 1} does not parse`, err);
    }
  });
}

/** The private key in a PEM file; encrypted keys are refused since no passphrase can be asked for. */
export function parsePrivateKey(text: string, path: string): KeyObject {
  if (countMatches(text, BEGIN_RE) === 0 || countMatches(text, BEGIN_RE) !== countMatches(text, END_RE)) {
    throw badPem(path, 'private key', 'it holds no complete "BEGIN … PRIVATE KEY" block');
  }
  if (ENCRYPTED_KEY_RE.test(text)) {
    throw badPem(path, 'private key', 'it is encrypted; supply an unencrypted PKCS#8 or SEC1 key');
  }
  try {
    return createPrivateKey({ key: text, format: 'pem' });
  } catch (err: unknown) {
    throw badPem(path, 'private key', 'it does not parse as a private key', err);
  }
}

function badPem(path: string, what: string, why: string, cause?: unknown): TlsError {
  return new TlsError(
    'TLS_BAD_PEM',
    `${path} is not a usable PEM ${what}: ${why}; re-export or re-copy the file in PEM format`,
    cause === undefined ? undefined : { cause },
  );
}
