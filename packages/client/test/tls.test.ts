import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { JsonHttpClient } from '../src/index.js';
import { caught, sendJson, startServer, tempDir } from './helpers.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Pki {
  readonly caPem: string;
  readonly otherCaPem: string;
  readonly key: string;
  readonly cert: string;
}

/** A throwaway CA and a server certificate for 127.0.0.1 signed by it (test-only keys, never stored). */
async function makePki(): Promise<Pki> {
  const dir = await tempDir();
  const p = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  for (const ca of ['ca', 'other']) {
    ssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      p(`${ca}.key`),
      '-out',
      p(`${ca}.pem`),
      '-days',
      '2',
      '-subj',
      `/CN=rune-test-${ca}`,
    );
  }
  ssl('req', ...ec, '-keyout', p('srv.key'), '-out', p('srv.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ssl(
    'x509',
    '-req',
    '-in',
    p('srv.csr'),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-out',
    p('srv.pem'),
    '-days',
    '2',
    '-extfile',
    p('ext.cnf'),
  );
  const read = (name: string) => readFileSync(p(name), 'utf8');
  return {
    caPem: read('ca.pem'),
    otherCaPem: read('other.pem'),
    key: read('srv.key'),
    cert: read('srv.pem'),
  };
}

describe.runIf(hasOpenssl())('JsonHttpClient over TLS', () => {
  let pki: Pki;

  beforeAll(async () => {
    pki = await makePki();
  });

  async function start(): Promise<string> {
    return startServer(
      (_req, res) => {
        sendJson(res, 200, { ok: true });
      },
      createServer({ key: pki.key, cert: pki.cert }),
    );
  }

  it('trusts a private CA given as caCert', async () => {
    const base = await start();
    const client = new JsonHttpClient({ service: 'vault', baseUrl: base, caCert: pki.caPem });
    expect(await client.get('/health')).toEqual({ ok: true });
    client.close();
  });

  it('refuses a certificate of a CA it was not given with TLS_UNTRUSTED', async () => {
    const base = await start();
    const system = new JsonHttpClient({ service: 'vault', baseUrl: base });
    const err = await caught(() => system.get('/health'));
    expect(err.code).toBe('TLS_UNTRUSTED');
    expect(err.hint).toContain('caCert');

    const other = new JsonHttpClient({ service: 'index', baseUrl: base, caCert: pki.otherCaPem });
    expect((await caught(() => other.get('/health'))).code).toBe('TLS_UNTRUSTED');
  });
});
