import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import type { SanHosts } from './hosts.js';
import { DAY_MS } from './validity.js';
import { x509 } from './x509.js';

/** A certificate and its private key, both PEM. */
export interface IssuedPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export const CA_VALIDITY_DAYS = 3650;
/** The longest TLS server lifetime browsers accept (CA/B Forum); also the default here. */
export const SERVER_VALIDITY_DAYS = 397;
// Backdating covers client clocks that run a little behind the issuer's.
const BACKDATE_MS = 5 * 60 * 1000;

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const EC_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

// RFC 5280 §4.1.2.2: positive, at most 20 octets; 127 random bits make serials unguessable.
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
}

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importSigningKey(keyPem: string): Promise<webcrypto.CryptoKey> {
  const der = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, EC_KEY, false, ['sign']);
}

/** A new private CA: ECDSA P-256, may sign server certificates only (path length 0). */
export async function generateCa(nowMs: number): Promise<IssuedPair> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    // A random suffix keeps two installations' CAs apart in a client's trust store.
    name: `CN=Rune local CA ${randomBytes(4).toString('hex')}`,
    notBefore: new Date(nowMs - BACKDATE_MS),
    notAfter: new Date(nowMs + CA_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: EC_SIGN,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

export interface ServerCertRequest {
  readonly ca: IssuedPair;
  readonly hosts: SanHosts;
  readonly nowMs: number;
  readonly validityDays: number;
}

/** A new server key and certificate signed by `ca`, for TLS server use on exactly `hosts`. */
export async function issueServerCert(req: ServerCertRequest): Promise<IssuedPair> {
  const caCert = new x509.X509Certificate(req.ca.certPem);
  const keys = await generateKeys();
  // Never outlive the issuer: a chain is only as valid as its shortest-lived link.
  const notAfterMs = Math.min(req.nowMs + req.validityDays * DAY_MS, caCert.notAfter.getTime());
  const names: x509.JsonGeneralNames = [
    ...req.hosts.dns.map((value) => ({ type: 'dns' as const, value })),
    ...req.hosts.ips.map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${req.hosts.dns[0] ?? 'localhost'}`,
    issuer: caCert.subjectName,
    notBefore: new Date(req.nowMs - BACKDATE_MS),
    notAfter: new Date(notAfterMs),
    signingAlgorithm: EC_SIGN,
    publicKey: keys.publicKey,
    signingKey: await importSigningKey(req.ca.keyPem),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}
