import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { access, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MemberConfig, readMemberConfig } from '@rune/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../src/onboarding/checks.js';
import { clockCheck, diagnoseConnection } from '../src/onboarding/diagnose.js';
import { probeTransport } from '../src/onboarding/net-probe.js';
import { parsePackageConfig } from '../src/onboarding/package-config.js';
import { type RuneStack, disposeStacks, startStack } from './e2e/stack-harness.js';
import { RUNE_BIN, runRune } from './run-rune.js';

let stack: RuneStack;
let work: string;

beforeAll(async () => {
  stack = await startStack();
  work = await mkdtemp(join(tmpdir(), 'rune-configure-'));
});

afterAll(async () => {
  await disposeStacks();
  await rm(work, { recursive: true, force: true });
});

function withoutCa(config: MemberConfig): MemberConfig {
  const copy = { ...config };
  delete copy.caCert;
  return copy;
}

function byId(checks: readonly Check[], id: string): Check | undefined {
  return checks.find((c) => c.id === id);
}

function firstFailure(checks: readonly Check[]): Check | undefined {
  return checks.find((c) => c.status === 'fail');
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A fresh member's environment: an empty HOME and XDG_CONFIG_HOME under it, nothing inherited. */
function memberEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, 'xdg'), NO_COLOR: '1' };
}

describe('diagnoseConnection names the layer that fails', () => {
  it('passes every check against a healthy stack', async () => {
    const checks = await diagnoseConnection(stack.adminConfig);
    expect(firstFailure(checks)).toBeUndefined();
    expect(checks.map((c) => c.id)).toEqual([
      'vault.tcp',
      'vault.tls',
      'vault.http',
      'vault.token',
      'clock.skew',
      'vault.key-pin',
      'index.tcp',
      'index.tls',
      'index.http',
      'index.embedder',
    ]);
    expect(byId(checks, 'vault.http')?.ms).toBeGreaterThanOrEqual(0);
  });

  it('reports DNS_FAILED when the host does not resolve', async () => {
    const checks = await probeTransport({
      name: 'vault',
      url: new URL('https://vault.example.invalid'),
      lookup: () => Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' })),
    });
    expect(firstFailure(checks)).toMatchObject({ id: 'vault.dns', code: 'DNS_FAILED' });
    expect(firstFailure(checks)?.message).toContain('ENOTFOUND');
  });

  it('reports TCP_REFUSED when nothing listens on the port', async () => {
    const port = await closedPort();
    const checks = await diagnoseConnection({ ...stack.adminConfig, vaultUrl: `https://127.0.0.1:${port}` });
    expect(firstFailure(checks)).toMatchObject({ id: 'vault.tcp', code: 'TCP_REFUSED' });
    expect(firstFailure(checks)?.fix).toContain(String(port));
  });

  it('reports TLS_UNTRUSTED without the team CA, and TLS_HANDSHAKE_FAILED for https to a plain port', async () => {
    const noCa = withoutCa(stack.adminConfig);
    const untrusted = firstFailure(await diagnoseConnection(noCa));
    expect(untrusted).toMatchObject({ id: 'vault.tls', code: 'TLS_UNTRUSTED' });
    expect(untrusted?.fix).toContain('--ca-file');

    const sockets = new Set<Socket>();
    const plain = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const address = plain.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const wrong = firstFailure(
        await diagnoseConnection({ ...stack.adminConfig, vaultUrl: `https://127.0.0.1:${port}` }),
      );
      expect(wrong).toMatchObject({ id: 'vault.tls', code: 'TLS_HANDSHAKE_FAILED' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) =>
        plain.close(() => {
          resolve();
        }),
      );
    }
  });

  it('reports TOKEN_REFUSED for a token the Vault does not know', async () => {
    const token = `rune_${randomBytes(32).toString('base64url')}`;
    const failed = firstFailure(await diagnoseConnection({ ...stack.adminConfig, token }));
    expect(failed).toMatchObject({ id: 'vault.token', code: 'TOKEN_REFUSED' });
    expect(failed?.fix).toContain('rune team rotate');
  });

  it('reports KEY_PIN_MISMATCH when the pinned hash is not the Vault key', async () => {
    const failed = firstFailure(
      await diagnoseConnection({ ...stack.adminConfig, publicKeyHash: 'cd'.repeat(32) }),
    );
    expect(failed).toMatchObject({ id: 'vault.key-pin', code: 'KEY_PIN_MISMATCH' });
  });

  it('reports INDEX_NOT_FOUND and EMBEDDER_MISMATCH on the index side', async () => {
    const missing = firstFailure(await diagnoseConnection({ ...stack.adminConfig, indexId: 'nosuch' }));
    expect(missing).toMatchObject({ id: 'index.http', code: 'INDEX_NOT_FOUND' });
    const other = firstFailure(
      await diagnoseConnection({ ...stack.adminConfig, embedder: { id: 'minilm-l6-v2', dim: 384 } }),
    );
    expect(other).toMatchObject({ id: 'index.embedder', code: 'EMBEDDER_MISMATCH' });
  });

  it('reports CLOCK_SKEW past 30 s either way, from the Date header', () => {
    const date = 'Thu, 26 Nov 2026 05:00:00 GMT';
    const server = Date.parse(date);
    expect(clockCheck(date, server + 500).status).toBe('ok');
    expect(clockCheck(date, server + 120_000)).toMatchObject({ code: 'CLOCK_SKEW', status: 'fail' });
    expect(clockCheck(date, server + 120_000).message).toContain('120 s ahead of');
    expect(clockCheck(date, server - 45_000).message).toContain('45 s behind');
    expect(clockCheck(undefined, server).status).toBe('skip');
  });
});

describe('rune configure', () => {
  async function packageFile(config: Partial<MemberConfig> & Record<string, unknown>): Promise<string> {
    const path = join(work, `pkg-${randomBytes(4).toString('hex')}.json`);
    await writeFile(path, JSON.stringify(config));
    return path;
  }

  it('tests, then saves the config atomically with mode 0600 at $XDG_CONFIG_HOME/rune', async () => {
    const home = await mkdtemp(join(work, 'home-'));
    const added = await stack.addMember({ role: 'member', name: 'carol' });
    const from = await packageFile(added.config);
    const out = await runRune(['configure', '--from', from, '--json'], { env: memberEnv(home) });
    expect(out.code, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout) as { ok: boolean; saved: boolean; configPath: string };
    const expected = join(home, 'xdg', 'rune', 'vault-config.json');
    expect(report).toMatchObject({ ok: true, saved: true, configPath: expected.replaceAll('\\', '/') });
    expect((await stat(expected)).mode & 0o777).toBe(0o600);
    expect(await readMemberConfig(expected)).toEqual(added.config);

    // An existing config is not replaced without --force.
    const again = await runRune(['configure', '--from', from], { env: memberEnv(home) });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[CONFIG_EXISTS]');
    expect(again.stderr).toContain('--force');
  });

  it('saves nothing and names the failure and its fix when the check fails', async () => {
    const home = await mkdtemp(join(work, 'home-'));
    const noCa = withoutCa(stack.adminConfig);
    const from = await packageFile({ ...noCa, token: `rune_${randomBytes(32).toString('base64url')}` });
    const out = await runRune(['configure', '--from', from], { env: memberEnv(home) });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('[TLS_UNTRUSTED]');
    expect(out.stderr).toContain('fix: ');
    expect(out.stderr).toContain('nothing was saved');
    await expect(access(join(home, 'xdg', 'rune', 'vault-config.json'))).rejects.toThrow();
  });

  it('takes flags: --ca-file, --key-hash, --vault-key-id and --token', async () => {
    const home = await mkdtemp(join(work, 'home-'));
    const added = await stack.addMember({ role: 'reader', name: 'dave' });
    const caFile = join(work, 'ca.pem');
    await writeFile(caFile, stack.caCert ?? '');
    const c = added.config;
    const target = join(home, 'custom', 'me.json');
    const out = await runRune(
      [
        'configure',
        ...['--vault-url', c.vaultUrl, '--index-url', c.indexUrl, '--index-id', c.indexId],
        ...['--key-hash', c.publicKeyHash, '--vault-key-id', c.vaultKeyId, '--ca-file', caFile],
        ...['--token', c.token, '--config', target],
      ],
      { env: memberEnv(home) },
    );
    expect(out.code, out.stderr).toBe(0);
    const saved = await readMemberConfig(target);
    expect(saved.token).toBe(c.token);
    expect(saved.caCert).toBe(stack.caCert);
    expect((await stat(target)).mode & 0o777).toBe(0o600);
  });

  it.runIf(process.platform === 'linux' && existsSync('/usr/bin/script'))(
    'asks for what is missing on a terminal, then tests and saves',
    async () => {
      const home = await mkdtemp(join(work, 'home-'));
      const added = await stack.addMember({ role: 'member', name: 'erin' });
      const caFile = join(work, 'ca-erin.pem');
      await writeFile(caFile, stack.caCert ?? '');
      const c = added.config;
      const target = join(home, 'tty.json');
      // Answers in prompt order: Vault, index, index id (default), pins, no invitation, token, CA file.
      const answers = [c.vaultUrl, c.indexUrl, '', c.publicKeyHash, c.vaultKeyId, '', c.token, caFile, ''];
      const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(RUNE_BIN)} configure --config ${JSON.stringify(target)}`;
      const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
        // script(1) gives the child a pseudo-terminal, so stdin.isTTY is true as for a person.
        const child = spawn('script', ['-qec', command, '/dev/null'], {
          env: { ...memberEnv(home), TERM: 'xterm' },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let text = '';
        child.stdout.setEncoding('utf8').on('data', (t: string) => (text += t));
        child.stdin.end(`${answers.join('\n')}\n`);
        child.once('close', (code) => {
          resolve({ code, text });
        });
      });
      expect(out.text).toContain('Pinned public-key hash');
      expect(out.code, out.text).toBe(0);
      expect((await readMemberConfig(target)).token).toBe(c.token);
      expect((await stat(target)).mode & 0o777).toBe(0o600);
    },
  );

  it('refuses a half-given command line with a usage error', async () => {
    const out = await runRune(['configure', '--vault-url', 'https://vault.example.com'], {
      env: memberEnv(work),
    });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--index-url is required');
  });
});

describe('package configs', () => {
  it('accept a token or an invitation, and refuse neither or a malformed one without echoing values', () => {
    const { token, ...rest } = stack.adminConfig;
    expect(parsePackageConfig({ ...rest, token }, 'x.json').token).toBe(token);
    const invitation = `rune_inv_${'a'.repeat(43)}`;
    expect(parsePackageConfig({ ...rest, invitation, email: 'e@x.io' }, 'x.json')).toMatchObject({
      invitation,
    });
    expect(() => parsePackageConfig(rest, 'x.json')).toThrow(/a token or an invitation is required/);
    expect(() => parsePackageConfig({ ...rest, token: 'rune_short' }, 'x.json')).toThrow(/token/);
    try {
      parsePackageConfig({ ...rest, token: 'rune_secretvalue' }, 'x.json');
    } catch (err: unknown) {
      expect(String(err)).not.toContain('secretvalue');
    }
  });

  it('reads back what configure wrote', async () => {
    const path = join(work, 'roundtrip.json');
    await writeFile(path, JSON.stringify(stack.adminConfig));
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(stack.adminConfig);
  });
});
