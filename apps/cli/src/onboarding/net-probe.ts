import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { type Check, fail, ok } from './checks.js';

export const PROBE_TIMEOUT_MS = 5_000;

export interface Endpoint {
  /** 'vault' or 'index': the prefix of each check id. */
  readonly name: 'vault' | 'index';
  readonly url: URL;
  readonly caCert?: string;
  /** Replaces the system resolver (tests). */
  readonly lookup?: (host: string) => Promise<{ address: string }>;
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

function portOf(url: URL): number {
  return url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
}

/**
 * DNS, then TCP, then (for https) a TLS handshake against the configured CA, each its own check,
 * so the first failing layer is named exactly. Stops at the first failure.
 */
export async function probeTransport(endpoint: Endpoint): Promise<Check[]> {
  const { name, url } = endpoint;
  const host = hostOf(url);
  const port = portOf(url);
  const checks: Check[] = [];
  let address = host;
  if (isIP(host) === 0) {
    const t0 = performance.now();
    try {
      address = (await (endpoint.lookup ?? lookup)(host)).address;
      checks.push(ok(`${name}.dns`, `${host} resolves to ${address}`, performance.now() - t0));
    } catch (err: unknown) {
      checks.push(
        fail(
          `${name}.dns`,
          'DNS_FAILED',
          `cannot resolve ${host} (${codeOf(err)})`,
          `check the host name in the ${name} URL, and your network, VPN or DNS settings`,
        ),
      );
      return checks;
    }
  }
  const t1 = performance.now();
  const tcp = await reach(tcpConnect({ host: address, port, timeout: PROBE_TIMEOUT_MS }), 'connect');
  if (tcp !== undefined) {
    const isRefused = codeOf(tcp) === 'ECONNREFUSED';
    checks.push(
      fail(
        `${name}.tcp`,
        isRefused ? 'TCP_REFUSED' : 'TCP_UNREACHABLE',
        `no connection to ${host}:${port} (${codeOf(tcp)})`,
        isRefused
          ? `nothing listens on port ${port}: check the ${name} is running and the URL's port`
          : `a firewall or network drops the traffic to ${host}:${port}; check the VPN and firewall rules`,
      ),
    );
    return checks;
  }
  checks.push(ok(`${name}.tcp`, `${host}:${port} accepts connections`, performance.now() - t1));
  if (url.protocol !== 'https:') return checks;
  const t2 = performance.now();
  const tls = await reach(
    tlsConnect({
      host: address,
      port,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ...(endpoint.caCert === undefined ? {} : { ca: endpoint.caCert }),
      timeout: PROBE_TIMEOUT_MS,
    }),
    'secureConnect',
  );
  if (tls !== undefined) {
    const code = codeOf(tls);
    const isProtocol = code === 'EPROTO' || code.startsWith('ERR_SSL_') || code === 'ECONNRESET';
    checks.push(
      fail(
        `${name}.tls`,
        isProtocol ? 'TLS_HANDSHAKE_FAILED' : 'TLS_UNTRUSTED',
        `the TLS handshake with ${host}:${port} failed (${code})`,
        isProtocol
          ? 'the server does not speak TLS there: check https:// versus http:// in the URL'
          : endpoint.caCert === undefined
            ? 'the certificate is not trusted: if your team uses a private CA, pass its PEM with --ca-file (rune up keeps it in DATA/tls/ca.pem)'
            : 'the certificate does not chain to the CA given, or names another host: check --ca-file and the URL host',
      ),
    );
    return checks;
  }
  checks.push(ok(`${name}.tls`, 'certificate verified', performance.now() - t2));
  return checks;
}

/**
 * Waits for `socket` to reach `ready` (TCP connected, or TLS handshake done), then closes it.
 * Resolves undefined on success, else the error (ETIMEDOUT after PROBE_TIMEOUT_MS); never rejects.
 */
function reach(socket: Socket, ready: 'connect' | 'secureConnect'): Promise<unknown> {
  return new Promise((resolve) => {
    let isDone = false;
    const done = (err?: unknown) => {
      if (isDone) return;
      isDone = true;
      socket.destroy();
      resolve(err);
    };
    socket.once(ready, () => {
      done();
    });
    socket.once('timeout', () => {
      done(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }));
    });
    socket.once('error', done);
  });
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly json: unknown;
  readonly ms: number;
}

/** One GET with an optional bearer token; the answer's status and headers (Date, for clock skew). */
export function rawGet(url: URL, options: { token?: string; caCert?: string }): Promise<RawAnswer> {
  return rawRequest('GET', url, options);
}

/** One bodiless request (GET, DELETE) with an optional bearer token; never follows redirects. */
export function rawRequest(
  method: string,
  url: URL,
  options: { token?: string; caCert?: string },
): Promise<RawAnswer> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method,
        agent: false,
        timeout: PROBE_TIMEOUT_MS,
        headers: {
          accept: 'application/json',
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        },
        ...(options.caCert === undefined ? {} : { ca: options.caCert }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json, ms: performance.now() - t0 });
        });
      },
    );
    req.once('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.once('error', reject);
    req.end();
  });
}
