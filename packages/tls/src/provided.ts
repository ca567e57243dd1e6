import type { X509Certificate } from 'node:crypto';
import { TlsError } from './errors.js';
import type { TlsMaterial } from './material.js';
import { parseCertificates, parsePrivateKey, readPemFile } from './pem.js';
import { isValidFor } from './validity.js';

export interface ProvidedTlsFiles {
  /** PEM: the server certificate, optionally followed by its intermediates. */
  readonly certFile: string;
  /** PEM: the server's unencrypted private key. */
  readonly keyFile: string;
  /** PEM: the CA clients should trust, when it is a private one. */
  readonly caFile?: string;
  readonly now?: () => Date;
}

/**
 * Loads an operator's certificate and checks, before any port opens, what would otherwise surface
 * as opaque handshake failures on every client: unreadable or truncated files, a key from another
 * certificate, an expired certificate, a chain the given CA did not issue.
 */
export async function loadProvidedTls(files: ProvidedTlsFiles): Promise<TlsMaterial> {
  const nowMs = (files.now ?? (() => new Date()))().getTime();
  const chain = parseCertificates(await readPemFile(files.certFile, 'certificate'), files.certFile);
  const key = parsePrivateKey(await readPemFile(files.keyFile, 'private key'), files.keyFile);
  const leaf = chain[0];
  const top = chain[chain.length - 1];
  if (leaf === undefined || top === undefined)
    throw new Error('unreachable: parseCertificates returned none');
  // SECURITY: a mismatched key would fail every handshake; refuse at start with the file names.
  if (!leaf.checkPrivateKey(key)) {
    throw new TlsError(
      'TLS_KEY_MISMATCH',
      `${files.keyFile} is not the private key of the certificate in ${files.certFile} (${leaf.subject}); pass the key that was generated with this certificate`,
    );
  }
  if (!isValidFor(leaf, nowMs)) {
    throw new TlsError(
      'TLS_CERT_EXPIRED',
      `the certificate in ${files.certFile} is valid ${leaf.validFrom} – ${leaf.validTo}, not now; renew it or check this machine's clock`,
    );
  }
  const base = {
    key: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    cert: chain.map((c) => c.toString()).join(''),
    certPath: files.certFile,
    keyPath: files.keyFile,
    fingerprint256: leaf.fingerprint256,
  };
  if (files.caFile === undefined) return base;
  const cas = parseCertificates(await readPemFile(files.caFile, 'CA certificate'), files.caFile);
  if (!cas.some((ca) => isIssuedBy(top, ca))) {
    throw new TlsError(
      'TLS_CA_MISMATCH',
      `the certificate chain in ${files.certFile} was not issued by any certificate in ${files.caFile}; pass the CA that signed it, or append the missing intermediates to ${files.certFile}`,
    );
  }
  return { ...base, ca: cas.map((c) => c.toString()).join(''), caPath: files.caFile };
}

function isIssuedBy(cert: X509Certificate, ca: X509Certificate): boolean {
  if (cert.fingerprint256 === ca.fingerprint256) return true;
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}
