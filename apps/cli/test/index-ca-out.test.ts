import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSelfSignedTls } from '@rune/tls';
import { afterEach, describe, expect, it } from 'vitest';
import { runRune } from './run-rune.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('rune index show-key --ca-out', () => {
  it('writes the CA that index serve will use, before the index has ever started', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rune-ca-out-'));
    dirs.push(root);
    const dataDir = join(root, 'index');
    const caOut = join(root, 'trust', 'index-ca.crt');
    await mkdir(join(root, 'trust'));
    const out = await runRune(
      ['index', 'show-key', '--data-dir', dataDir, '--ca-out', caOut, '--tls-host', 'index'],
      { env: { PATH: process.env.PATH } },
    );
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const written = await readFile(caOut, 'utf8');
    expect((await stat(caOut)).mode & 0o777).toBe(0o600);
    // What `rune index serve --data-dir DIR --tls-host index` loads: the same CA, a server
    // certificate for the name the Vault dials, signed by it.
    const served = await ensureSelfSignedTls(join(dataDir, 'tls'), { hosts: ['index'] });
    expect(served.ca).toBe(written);
    const server = new X509Certificate(served.cert);
    expect(server.checkHost('index')).toBe('index');
    expect(server.verify(new X509Certificate(written).publicKey)).toBe(true);
  });

  it('refuses --tls-host without --ca-out', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rune-ca-out-'));
    dirs.push(root);
    const out = await runRune(['index', 'show-key', '--data-dir', root, '--tls-host', 'index'], {
      env: { PATH: process.env.PATH },
    });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--tls-host only makes sense with --ca-out');
  });
});
