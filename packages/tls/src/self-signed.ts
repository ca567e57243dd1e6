import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import {
  CERT_FILE_MODE,
  KEY_FILE_MODE,
  ensurePrivateDir,
  readIfExists,
  writeFileAtomic,
} from './atomic-file.js';
import { TlsError, isTlsError } from './errors.js';
import { sanHosts, type SanHosts } from './hosts.js';
import { SERVER_VALIDITY_DAYS, generateCa, issueServerCert, type IssuedPair } from './issue.js';
import type { TlsMaterial } from './material.js';
import { parseCertificates, parsePrivateKey } from './pem.js';
import { DAY_MS, isValidFor } from './validity.js';

export const CA_CERT_FILE = 'ca.crt';
export const CA_KEY_FILE = 'ca.key';
export const SERVER_CERT_FILE = 'server.crt';
export const SERVER_KEY_FILE = 'server.key';
/** A server certificate this close to expiry is replaced at the next start. */
export const RENEW_BEFORE_DAYS = 30;

export interface SelfSignedOptions {
  /** Names and IPs clients use besides localhost, 127.0.0.1 and ::1. */
  readonly hosts?: readonly string[];
  readonly now?: () => Date;
  /** Server certificate lifetime in days (default 397); must exceed RENEW_BEFORE_DAYS. */
  readonly validityDays?: number;
}

interface Paths {
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

/**
 * TLS for a service without an operator certificate: a private CA and a server certificate it
 * signed, kept in `dir`. The first call creates both; later calls reuse them and re-issue only the
 * server certificate (same CA, so clients keep trusting ca.crt) when it expires within
 * RENEW_BEFORE_DAYS, lacks a requested host, or no longer matches its key or the CA.
 */
export async function ensureSelfSignedTls(
  dir: string,
  options: SelfSignedOptions = {},
): Promise<TlsMaterial> {
  const nowMs = (options.now ?? (() => new Date()))().getTime();
  const validityDays = options.validityDays ?? SERVER_VALIDITY_DAYS;
  if (!Number.isSafeInteger(validityDays) || validityDays <= RENEW_BEFORE_DAYS) {
    throw new TlsError(
      'INVALID_ARGUMENT',
      `validityDays must be a whole number above ${RENEW_BEFORE_DAYS} (got ${validityDays}), or the certificate would be re-issued at every start`,
    );
  }
  const hosts = sanHosts(options.hosts);
  const paths: Paths = {
    caCert: join(dir, CA_CERT_FILE),
    caKey: join(dir, CA_KEY_FILE),
    serverCert: join(dir, SERVER_CERT_FILE),
    serverKey: join(dir, SERVER_KEY_FILE),
  };
  await ensurePrivateDir(dir);
  const ca = await loadOrCreateCa(paths, nowMs);
  const server = await loadOrIssueServer(paths, ca, hosts, nowMs, validityDays);
  const serverCert = new X509Certificate(server.certPem);
  return {
    key: server.keyPem,
    cert: `${server.certPem.trimEnd()}\n${ca.certPem.trimEnd()}\n`,
    ca: ca.certPem,
    caPath: paths.caCert,
    certPath: paths.serverCert,
    keyPath: paths.serverKey,
    fingerprint256: serverCert.fingerprint256,
  };
}

async function loadOrCreateCa(paths: Paths, nowMs: number): Promise<IssuedPair> {
  const certPem = await readIfExists(paths.caCert);
  // ca.crt is written after ca.key, so without it no client can have trusted this CA yet and a
  // stray ca.key from an interrupted first start may be replaced.
  if (certPem === undefined) {
    const ca = await generateCa(nowMs);
    await writeFileAtomic(paths.caKey, ca.keyPem, KEY_FILE_MODE);
    await writeFileAtomic(paths.caCert, ca.certPem, CERT_FILE_MODE);
    return ca;
  }
  const keyPem = await readIfExists(paths.caKey);
  if (keyPem === undefined) {
    throw new TlsError(
      'TLS_FILE_UNREADABLE',
      `${paths.caCert} exists but its key ${paths.caKey} is missing; restore ca.key from backup, or delete ca.crt to create a new CA (clients must then trust the new ca.crt)`,
    );
  }
  const [cert] = parseCertificates(certPem, paths.caCert);
  const key = parsePrivateKey(keyPem, paths.caKey);
  if (cert === undefined || !cert.checkPrivateKey(key)) {
    throw new TlsError(
      'TLS_KEY_MISMATCH',
      `${paths.caKey} is not the key of ${paths.caCert}; restore the matching pair, or delete both to create a new CA (clients must then trust the new ca.crt)`,
    );
  }
  if (!cert.ca || !isValidFor(cert, nowMs)) {
    throw new TlsError(
      'TLS_CERT_EXPIRED',
      `${paths.caCert} is not a CA certificate valid now (${cert.validFrom} – ${cert.validTo}); delete ca.crt and ca.key to create a new CA (clients must then trust the new ca.crt)`,
    );
  }
  return { certPem, keyPem };
}

async function loadOrIssueServer(
  paths: Paths,
  ca: IssuedPair,
  hosts: SanHosts,
  nowMs: number,
  validityDays: number,
): Promise<IssuedPair> {
  const certPem = await readIfExists(paths.serverCert);
  const keyPem = await readIfExists(paths.serverKey);
  if (certPem !== undefined && keyPem !== undefined) {
    const existing = { certPem, keyPem };
    if (isServerPairUsable(existing, paths, ca, hosts, nowMs)) return existing;
  }
  const issued = await issueServerCert({ ca, hosts, nowMs, validityDays });
  // Key before certificate: a crash in between leaves a mismatch, which the next start re-issues.
  await writeFileAtomic(paths.serverKey, issued.keyPem, KEY_FILE_MODE);
  await writeFileAtomic(paths.serverCert, issued.certPem, CERT_FILE_MODE);
  return issued;
}

/** Whether the stored server pair can be served as is; anything odd means "re-issue". */
function isServerPairUsable(
  server: IssuedPair,
  paths: Paths,
  ca: IssuedPair,
  hosts: SanHosts,
  nowMs: number,
): boolean {
  let cert: X509Certificate | undefined;
  try {
    [cert] = parseCertificates(server.certPem, paths.serverCert);
    const key = parsePrivateKey(server.keyPem, paths.serverKey);
    if (cert === undefined || !cert.checkPrivateKey(key)) return false;
  } catch (err: unknown) {
    // Derived files only: a damaged one is replaced, never fatal.
    if (isTlsError(err)) return false;
    throw err;
  }
  const caCert = new X509Certificate(ca.certPem);
  return (
    cert.checkIssued(caCert) &&
    cert.verify(caCert.publicKey) &&
    isValidFor(cert, nowMs, RENEW_BEFORE_DAYS * DAY_MS) &&
    hosts.dns.every((name) => cert.checkHost(name, { subject: 'never', wildcards: false }) !== undefined) &&
    hosts.ips.every((ip) => cert.checkIP(ip) !== undefined)
  );
}
