import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { TlsError } from './errors.js';
import { listenPolicy } from './listen-policy.js';
import type { TlsMaterial } from './material.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Server timeouts in milliseconds; bounded so slow or idle clients cannot hold sockets forever. */
export const SERVER_TIMEOUTS = Object.freeze({
  /** Whole request, headers and body (slowloris / slow-body bound). */
  requestTimeoutMs: 30_000,
  /** Request headers; must not exceed requestTimeoutMs. */
  headersTimeoutMs: 15_000,
  /** Idle keep-alive socket between requests. */
  keepAliveTimeoutMs: 5_000,
  /** TLS handshake. */
  handshakeTimeoutMs: 10_000,
  /** How long close() lets in-flight requests finish before cutting their sockets. */
  closeGraceMs: 5_000,
});

export interface StartServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Serve HTTPS with this material. */
  readonly tls?: TlsMaterial;
  /** Plain HTTP, honoured only on loopback addresses (see listenPolicy). */
  readonly allowPlainHttp?: boolean;
}

export interface ListeningServer {
  readonly server: ReturnType<typeof createHttpServer> | ReturnType<typeof createHttpsServer>;
  /** e.g. https://127.0.0.1:50080 or https://[::1]:50080 */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, ends idle keep-alive sockets at once and busy ones after closeGraceMs. */
  close(): Promise<void>;
}

/** Applies the listening policy, then binds `host:port` and serves `handler`. */
export async function startServer(
  handler: RequestHandler,
  options: StartServerOptions,
): Promise<ListeningServer> {
  const scheme = listenPolicy(options);
  const common = {
    requestTimeout: SERVER_TIMEOUTS.requestTimeoutMs,
    headersTimeout: SERVER_TIMEOUTS.headersTimeoutMs,
    keepAliveTimeout: SERVER_TIMEOUTS.keepAliveTimeoutMs,
  };
  const server =
    options.tls === undefined
      ? createHttpServer(common, handler)
      : createHttpsServer(
          {
            ...common,
            key: options.tls.key,
            cert: options.tls.cert,
            // SECURITY: no TLS 1.0/1.1; node's default cipher list is kept.
            minVersion: 'TLSv1.2',
            handshakeTimeout: SERVER_TIMEOUTS.handshakeTimeoutMs,
          },
          handler,
        );
  const port = await listen(server, options.host, options.port);
  const host = isIP(options.host) === 6 ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    server,
    url: `${scheme}://${host}:${port}`,
    port,
    close: () => (closing ??= closeServer(server)),
  };
}

async function listen(server: ListeningServer['server'], host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(
        new TlsError(
          'LISTEN_FAILED',
          `cannot listen on ${host}:${port} (${err.message}); pick a free port or an address of this machine`,
          { cause: err },
        ),
      );
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function closeServer(server: ListeningServer['server']): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cutBusy = setTimeout(() => {
      server.closeAllConnections();
    }, SERVER_TIMEOUTS.closeGraceMs);
    cutBusy.unref();
    server.close((err) => {
      clearTimeout(cutBusy);
      if (err === undefined) resolve();
      else reject(err);
    });
    // close() only stops accepting; idle keep-alive sockets would otherwise hold it open.
    server.closeIdleConnections();
  });
}
