import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, request } from 'node:https';
import { networkInterfaces } from 'node:os';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  SERVER_TIMEOUTS,
  ensureSelfSignedTls,
  isLoopbackHost,
  listenPolicy,
  startServer,
  type ListeningServer,
  type TlsMaterial,
} from '../src/index.js';
import { expectCode, get, tempDir } from './helpers.js';

const hello = (_req: IncomingMessage, res: ServerResponse): void => {
  res.end('hello');
};

const running: ListeningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(...args: Parameters<typeof startServer>): Promise<ListeningServer> {
  const server = await startServer(...args);
  running.push(server);
  return server;
}

let tls: TlsMaterial;
beforeAll(async () => {
  tls = await ensureSelfSignedTls(await tempDir());
});

const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) =>
  (list ?? []).some((i) => i.address === '::1'),
);

describe('startServer over HTTPS', () => {
  it('answers a client that trusts the generated CA', async () => {
    const server = await start(hello, { host: '127.0.0.1', port: 0, tls });
    expect(server.url).toBe(`https://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    await expect(get(server.url, { ca: tls.ca! })).resolves.toEqual({ status: 200, body: 'hello' });
  });

  it('verifies as localhost too', async () => {
    const server = await start(hello, { host: '127.0.0.1', port: 0, tls });
    const reply = await get(server.url, { ca: tls.ca!, servername: 'localhost' });
    expect(reply.status).toBe(200);
  });

  it('fails the handshake for a client that does not trust the CA', async () => {
    const server = await start(hello, { host: '127.0.0.1', port: 0, tls });
    await expect(get(server.url)).rejects.toMatchObject({
      code: expect.stringMatching(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE/) as unknown,
    });
  });

  it('fails for a name the certificate does not cover', async () => {
    const server = await start(hello, { host: '127.0.0.1', port: 0, tls });
    await expect(get(server.url, { ca: tls.ca!, servername: 'evil.example' })).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('refuses TLS 1.1', async () => {
    const server = await start(hello, { host: '127.0.0.1', port: 0, tls });
    await expect(
      get(server.url, { ca: tls.ca!, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }),
    ).rejects.toBeInstanceOf(Error);
  });

  it('bounds request, header and keep-alive time', async () => {
    const { server } = await start(hello, { host: '127.0.0.1', port: 0, tls });
    expect(server.requestTimeout).toBe(SERVER_TIMEOUTS.requestTimeoutMs);
    expect(server.headersTimeout).toBe(SERVER_TIMEOUTS.headersTimeoutMs);
    expect(server.keepAliveTimeout).toBe(SERVER_TIMEOUTS.keepAliveTimeoutMs);
  });

  it('closes promptly while a client holds an idle keep-alive connection', async () => {
    const server = await startServer(hello, { host: '127.0.0.1', port: 0, tls });
    const agent = new Agent({ keepAlive: true, ca: tls.ca! });
    await new Promise<void>((resolve, reject) => {
      request(server.url, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
    const started = performance.now();
    await server.close();
    await server.close(); // a second close is harmless
    expect(performance.now() - started).toBeLessThan(SERVER_TIMEOUTS.closeGraceMs);
    expect(server.server.listening).toBe(false);
    agent.destroy();
  });

  it('reports a port that is already taken', async () => {
    const first = await start(hello, { host: '127.0.0.1', port: 0, tls });
    await expectCode(startServer(hello, { host: '127.0.0.1', port: first.port, tls }), 'LISTEN_FAILED');
  });

  it.skipIf(!hasIpv6Loopback)('brackets an IPv6 host in the url', async () => {
    const server = await start(hello, { host: '::1', port: 0, tls });
    expect(server.url).toBe(`https://[::1]:${server.port}`);
    await expect(get(server.url, { ca: tls.ca! })).resolves.toMatchObject({ status: 200 });
  });
});

describe('plain HTTP', () => {
  it('is refused on 0.0.0.0 even with the flag', async () => {
    const err = await expectCode(
      startServer(hello, { host: '0.0.0.0', port: 0, allowPlainHttp: true }),
      'PLAIN_HTTP_REFUSED',
    );
    expect(err.message).toMatch(/certificate/);
  });

  it('is refused on 127.0.0.1 without the flag', async () => {
    const err = await expectCode(startServer(hello, { host: '127.0.0.1', port: 0 }), 'PLAIN_HTTP_REFUSED');
    expect(err.message).toMatch(/flag/);
  });

  it('is served on 127.0.0.1 with the flag', async () => {
    const server = await start(hello, { host: '127.0.0.1', port: 0, allowPlainHttp: true });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    await expect(get(server.url)).resolves.toEqual({ status: 200, body: 'hello' });
  });

  it.each([['0.0.0.0'], ['::'], ['10.0.0.5'], ['192.168.1.2'], ['vault.example.org'], ['[::1]'], ['']])(
    'is refused on %j',
    (host) => {
      expect(() => listenPolicy({ host, allowPlainHttp: true })).toThrow(/refusing plain HTTP/);
    },
  );

  it('is not needed when a certificate is given, whatever the host', () => {
    expect(listenPolicy({ host: '0.0.0.0', tls })).toBe('https');
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1'],
    ['127.8.9.10'],
    ['::1'],
    ['0:0:0:0:0:0:0:1'],
    ['::ffff:127.0.0.1'],
    ['localhost'],
    ['LOCALHOST'],
  ])('accepts %j', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each([
    ['128.0.0.1'],
    ['0.0.0.0'],
    ['::'],
    ['::ffff:10.0.0.1'],
    ['localhost.example.org'],
    ['127.0.0.1.nip.io'],
  ])('rejects %j', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});
