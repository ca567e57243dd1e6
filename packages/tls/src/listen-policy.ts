import { TlsError } from './errors.js';
import { isLoopbackHost } from './hosts.js';
import type { TlsMaterial } from './material.js';

export interface ListenPolicyInput {
  readonly host: string;
  readonly tls?: TlsMaterial | undefined;
  readonly allowPlainHttp?: boolean | undefined;
}

export type Scheme = 'https' | 'http';

/**
 * Which scheme a service may listen with. HTTPS whenever a certificate is given; plain HTTP only
 * when the operator asked for it explicitly AND the address is loopback-only.
 * SECURITY: bearer tokens and permits cross these connections; plain HTTP off the machine would
 * expose them to anyone on the path.
 */
export function listenPolicy(input: ListenPolicyInput): Scheme {
  if (input.tls !== undefined) return 'https';
  if (!isLoopbackHost(input.host)) {
    throw new TlsError(
      'PLAIN_HTTP_REFUSED',
      `refusing plain HTTP on ${input.host}: it is reachable from other machines; pass a TLS certificate (or use the generated self-signed one), or listen on 127.0.0.1 with the explicit allow-plain-http flag`,
    );
  }
  if (input.allowPlainHttp !== true) {
    throw new TlsError(
      'PLAIN_HTTP_REFUSED',
      `refusing plain HTTP on ${input.host} without the explicit allow-plain-http flag; pass a TLS certificate, or set the flag to serve unencrypted HTTP on loopback only`,
    );
  }
  return 'http';
}
