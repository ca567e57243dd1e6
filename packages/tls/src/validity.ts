import type { X509Certificate } from 'node:crypto';

export const DAY_MS = 24 * 60 * 60 * 1000;

// Node 20's X509Certificate has only the string forms (validFromDate arrived in Node 22).
export function notBeforeMs(cert: X509Certificate): number {
  return Date.parse(cert.validFrom);
}

export function notAfterMs(cert: X509Certificate): number {
  return Date.parse(cert.validTo);
}

/** True when the certificate is valid at `nowMs` and stays valid for at least `marginMs` more. */
export function isValidFor(cert: X509Certificate, nowMs: number, marginMs = 0): boolean {
  return notBeforeMs(cert) <= nowMs && nowMs + marginMs < notAfterMs(cert);
}
