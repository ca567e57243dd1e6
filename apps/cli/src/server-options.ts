import { ensureSelfSignedTls, loadProvidedTls, type TlsMaterial } from '@rune/tls';
import { type OptionSpec, type Parsed, flag, listOpt, stringOpt } from './args.js';
import { usageError } from './cli-error.js';

/** Options every serving command shares. */
export const SERVE_OPTIONS: OptionSpec = {
  host: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-host': { type: 'string', multiple: true },
  'plain-http': { type: 'boolean' },
};

export const SERVE_HELP = `  --host HOST            address to listen on (default 127.0.0.1)
  --port N               port (0 picks a free one)
  --data-dir DIR         where keys and data live
  --tls-cert FILE        serve HTTPS with this certificate (PEM chain) ...
  --tls-key FILE         ... and this private key
  --tls-ca FILE          CA of a provided certificate, for clients (optional)
  --tls-host NAME        extra DNS name or IP for the generated certificate (repeatable)
  --plain-http           serve plain HTTP; refused unless --host is a loopback address`;

/**
 * TLS for a serving command: the operator's certificate when given, else a self-signed CA and
 * server certificate generated once under `tlsDir`; none with --plain-http (loopback only, checked
 * by the server when it binds).
 */
export async function resolveTls(
  parsed: Parsed,
  command: string,
  tlsDir: string,
): Promise<TlsMaterial | undefined> {
  const certFile = stringOpt(parsed, 'tls-cert');
  const keyFile = stringOpt(parsed, 'tls-key');
  const caFile = stringOpt(parsed, 'tls-ca');
  if (flag(parsed, 'plain-http')) {
    if (certFile !== undefined || keyFile !== undefined) {
      throw usageError(`${command}: --plain-http and --tls-cert/--tls-key exclude each other`);
    }
    return undefined;
  }
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw usageError(
      `${command}: give both --tls-cert and --tls-key, or neither (a certificate is then generated)`,
    );
  }
  if (certFile !== undefined && keyFile !== undefined) {
    return loadProvidedTls({ certFile, keyFile, ...(caFile === undefined ? {} : { caFile }) });
  }
  const host = stringOpt(parsed, 'host');
  const hosts = [...listOpt(parsed, 'tls-host'), ...(host === undefined ? [] : [host])].filter(
    (h) => h !== '0.0.0.0' && h !== '::',
  );
  return ensureSelfSignedTls(tlsDir, { hosts });
}
