/**
 * What a service needs to serve HTTPS, and what its clients need to trust it. All strings are
 * PEM text; the paths say where the same bytes live on disk, so operators can be pointed at them.
 */
export interface TlsMaterial {
  /** The server's private key (PKCS#8 PEM). SECURITY: never log or return this over the wire. */
  readonly key: string;
  /** The certificate chain the server presents: its own certificate first, then issuers. */
  readonly cert: string;
  /** The CA certificate clients must trust; absent for operator certificates given without one. */
  readonly ca?: string;
  readonly caPath?: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** SHA-256 of the server certificate's DER, as colon-separated hex (node's `fingerprint256`). */
  readonly fingerprint256: string;
}
