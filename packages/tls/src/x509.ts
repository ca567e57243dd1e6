// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API at
// load time; the polyfill must be evaluated first, so every use of the library goes through here.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

// Node's own WebCrypto: no pure-JS crypto fallback, and nothing is fetched at runtime.
x509.cryptoProvider.set(webcrypto);

export { x509 };
