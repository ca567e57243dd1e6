/**
 * @rune/tls — how Rune's HTTP services (the Vault and the index) listen.
 *
 * - `ensureSelfSignedTls(dir)`: a private CA plus a server certificate it signed, created on first
 *   start and re-issued near expiry; clients trust `ca.crt`.
 * - `loadProvidedTls({ certFile, keyFile, caFile })`: an operator's certificate, checked up front.
 * - `startServer(handler, { host, port, tls, allowPlainHttp })`: HTTPS by default; plain HTTP only
 *   on loopback with the explicit flag (`listenPolicy`), bounded timeouts, a close() that drains.
 *
 * Certificates are made with @peculiar/x509 over node's WebCrypto: no openssl binary, no network.
 * Failures are `TlsError`s with a stable `code` and a message that says how to fix them.
 */
export { TlsError, TlsErrorCode, isTlsError } from './errors.js';
export type { TlsMaterial } from './material.js';
export { DEFAULT_HOSTS, isLoopbackHost } from './hosts.js';
export { CA_VALIDITY_DAYS, SERVER_VALIDITY_DAYS } from './issue.js';
export {
  CA_CERT_FILE,
  CA_KEY_FILE,
  SERVER_CERT_FILE,
  SERVER_KEY_FILE,
  RENEW_BEFORE_DAYS,
  ensureSelfSignedTls,
  type SelfSignedOptions,
} from './self-signed.js';
export { loadProvidedTls, type ProvidedTlsFiles } from './provided.js';
export { listenPolicy, type ListenPolicyInput, type Scheme } from './listen-policy.js';
export {
  SERVER_TIMEOUTS,
  startServer,
  type ListeningServer,
  type RequestHandler,
  type StartServerOptions,
} from './start-server.js';
