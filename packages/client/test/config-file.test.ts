import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMemberConfig, writeMemberConfig } from '../src/index.js';
import { TOKEN, caught, sampleConfig, tempDir } from './helpers.js';

const isPosix = process.platform !== 'win32';

describe('writeMemberConfig / readMemberConfig', () => {
  it('round-trips a config', async () => {
    const path = join(await tempDir(), 'vault-config.json');
    const config = sampleConfig({ indexVerifyKey: 'B'.repeat(43), memberId: 'mem_1' });
    await writeMemberConfig(path, config);
    expect(await readMemberConfig(path)).toEqual(config);
  });

  it.runIf(isPosix)(
    'writes mode 0600 in a new 0700 directory, and keeps 0600 when replacing a file',
    async () => {
      const dir = join(await tempDir(), 'cfg', 'rune');
      const path = join(dir, 'vault-config.json');
      await writeMemberConfig(path, sampleConfig());
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);

      await writeFile(path, '{}', { mode: 0o644 });
      await writeMemberConfig(path, sampleConfig({ name: 'Grace' }));
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect((await readMemberConfig(path)).name).toBe('Grace');
      // Atomic replace: no temp file is left beside it.
      expect(await readdir(dir)).toEqual(['vault-config.json']);
    },
  );

  it('refuses to write an invalid config and leaves the old one', async () => {
    const path = join(await tempDir(), 'vault-config.json');
    await writeMemberConfig(path, sampleConfig());
    const err = await caught(() => writeMemberConfig(path, sampleConfig({ publicKeyHash: 'nope' })));
    expect(err.code).toBe('CONFIG_INVALID');
    expect((await readMemberConfig(path)).publicKeyHash).toBe('ab'.repeat(32));
  });

  it('reports CONFIG_WRITE_FAILED when the directory cannot be created', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'file'), 'x');
    const err = await caught(() => writeMemberConfig(join(dir, 'file', 'vault-config.json'), sampleConfig()));
    expect(err.code).toBe('CONFIG_WRITE_FAILED');
  });

  it('reports a missing file as CONFIG_NOT_FOUND, naming the path and the fix', async () => {
    const path = join(await tempDir(), 'absent.json');
    const err = await caught(() => readMemberConfig(path));
    expect(err.code).toBe('CONFIG_NOT_FOUND');
    expect(err.message).toContain(path);
    expect(err.hint).toContain('rune configure');
  });

  it('reports a file that is not JSON as CONFIG_CORRUPT, naming the file', async () => {
    const path = join(await tempDir(), 'vault-config.json');
    await writeFile(path, '{"version": 1, "token": ');
    const err = await caught(() => readMemberConfig(path));
    expect(err.code).toBe('CONFIG_CORRUPT');
    expect(err.message).toContain(path);
    expect(err.hint).toContain(path);
  });

  it('reports a directory or an oversized file as CONFIG_CORRUPT', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'sub'));
    expect((await caught(() => readMemberConfig(join(dir, 'sub')))).code).toBe('CONFIG_CORRUPT');
    await writeFile(join(dir, 'big.json'), ' '.repeat(300 * 1024));
    expect((await caught(() => readMemberConfig(join(dir, 'big.json')))).code).toBe('CONFIG_CORRUPT');
  });

  it('reports bad fields as CONFIG_INVALID by name, without echoing the token', async () => {
    const path = join(await tempDir(), 'vault-config.json');
    const secret = `rune_${'s'.repeat(42)}`;
    await writeFile(path, JSON.stringify({ ...sampleConfig(), token: secret, vaultKeyId: 'XYZ' }));
    const err = await caught(() => readMemberConfig(path));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('token');
    expect(err.message).toContain('vaultKeyId');
    expect(err.message).not.toContain(secret);
  });

  it('refuses unknown fields, another version, and plaintext http to a remote host', async () => {
    const path = join(await tempDir(), 'vault-config.json');
    for (const bad of [
      { ...sampleConfig(), extra: true },
      { ...sampleConfig(), version: 2 },
      { ...sampleConfig(), vaultUrl: 'http://vault.example.com' },
      { ...sampleConfig(), indexUrl: 'https://user:pw@index.example.com' },
      { ...sampleConfig(), caCert: 'not a pem' },
    ]) {
      await writeFile(path, JSON.stringify(bad));
      expect((await caught(() => readMemberConfig(path))).code).toBe('CONFIG_INVALID');
    }
  });

  it('accepts plaintext http to loopback addresses only', async () => {
    const path = join(await tempDir(), 'vault-config.json');
    for (const url of ['http://127.0.0.1:8443', 'http://localhost:9000', 'http://[::1]:1']) {
      await writeMemberConfig(path, sampleConfig({ vaultUrl: url, indexUrl: url }));
      expect((await readMemberConfig(path)).vaultUrl).toBe(url);
    }
  });

  it('writes pretty JSON with the token in it (the file is the credential store)', async () => {
    const path = join(await tempDir(), 'vault-config.json');
    await writeMemberConfig(path, sampleConfig());
    const text = await readFile(path, 'utf8');
    expect(text).toContain(`"token": "${TOKEN}"`);
    expect(text.endsWith('}\n')).toBe(true);
  });
});
