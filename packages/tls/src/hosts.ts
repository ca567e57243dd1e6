import { BlockList, isIP } from 'node:net';
import { TlsError } from './errors.js';

/** Names every self-signed server certificate covers, so local clients work with any spelling. */
export const DEFAULT_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

// One DNS label: letters, digits, inner hyphens, at most 63 octets. No wildcards: a private CA
// has no reason to issue them.
const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_DNS_NAME = 253;

export interface SanHosts {
  readonly dns: readonly string[];
  readonly ips: readonly string[];
}

function normalizeHost(raw: string): string {
  const host = raw.trim().toLowerCase();
  if (isIP(host) !== 0) return host;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length === 0 || name.length > MAX_DNS_NAME || !name.split('.').every((l) => LABEL_RE.test(l))) {
    throw new TlsError(
      'INVALID_ARGUMENT',
      `"${raw}" is neither an IP address nor a DNS name; give hosts like "vault.internal" or "10.0.0.5"`,
    );
  }
  return name;
}

/** The default hosts plus `extra`, de-duplicated and split into DNS and IP subject alt names. */
export function sanHosts(extra: readonly string[] = []): SanHosts {
  const all = [...new Set([...DEFAULT_HOSTS, ...extra].map(normalizeHost))];
  return { dns: all.filter((h) => isIP(h) === 0), ips: all.filter((h) => isIP(h) !== 0) };
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');
// IPv4-mapped loopback (::ffff:127.0.0.1) reaches the same interface.
loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/**
 * True only for addresses that cannot be reached from another machine: 127.0.0.0/8, ::1 and the
 * name localhost (RFC 6761 reserves it for loopback). SECURITY: decides where plain HTTP may
 * listen, so anything unrecognised (wildcards, brackets, other names) is not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === 'localhost.') return true;
  switch (isIP(h)) {
    case 4:
      return loopback.check(h, 'ipv4');
    case 6:
      return loopback.check(h, 'ipv6');
    default:
      return false;
  }
}
