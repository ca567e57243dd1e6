import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureSelfSignedTls, loadProvidedTls } from '../src/index.js';
import { DAY_MS, expectCode, tempDir } from './helpers.js';

/** An operator's files: here, a pair made by ensureSelfSignedTls in its own directory. */
async function operatorFiles() {
  const tls = await ensureSelfSignedTls(await tempDir(), { hosts: ['vault.example.org'] });
  return { tls, certFile: tls.certPath, keyFile: tls.keyPath, caFile: tls.caPath! };
}

async function writeTemp(name: string, text: string): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, text);
  return path;
}

describe('loadProvidedTls', () => {
  it('loads a certificate, its key and its CA', async () => {
    const { tls, certFile, keyFile, caFile } = await operatorFiles();
    const loaded = await loadProvidedTls({ certFile, keyFile, caFile });
    expect(loaded.fingerprint256).toBe(tls.fingerprint256);
    expect(loaded.certPath).toBe(certFile);
    expect(loaded.keyPath).toBe(keyFile);
    expect(loaded.caPath).toBe(caFile);
    expect(new X509Certificate(loaded.ca!).fingerprint256).toBe(new X509Certificate(tls.ca!).fingerprint256);
    expect(createPrivateKey(loaded.key).equals(createPrivateKey(tls.key))).toBe(true);
  });

  it('leaves ca unset when no CA file is given (a publicly trusted certificate)', async () => {
    const { certFile, keyFile } = await operatorFiles();
    const loaded = await loadProvidedTls({ certFile, keyFile });
    expect(loaded.ca).toBeUndefined();
    expect(loaded.caPath).toBeUndefined();
  });

  it('refuses a key that belongs to another certificate, naming both files', async () => {
    const mine = await operatorFiles();
    const other = await operatorFiles();
    const err = await expectCode(
      loadProvidedTls({ certFile: mine.certFile, keyFile: other.keyFile }),
      'TLS_KEY_MISMATCH',
    );
    expect(err.message).toContain(other.keyFile);
    expect(err.message).toContain(mine.certFile);
  });

  it('refuses a truncated certificate PEM', async () => {
    const { tls, keyFile } = await operatorFiles();
    const certFile = await writeTemp('cut.crt', tls.cert.slice(0, tls.cert.length / 3));
    const err = await expectCode(loadProvidedTls({ certFile, keyFile }), 'TLS_BAD_PEM');
    expect(err.message).toContain(certFile);
  });

  it('refuses a chain whose second certificate was cut off', async () => {
    const { tls, keyFile } = await operatorFiles();
    const certFile = await writeTemp('cut-chain.crt', tls.cert.slice(0, tls.cert.length - 60));
    await expectCode(loadProvidedTls({ certFile, keyFile }), 'TLS_BAD_PEM');
  });

  it('refuses a certificate block with damaged contents', async () => {
    const { keyFile } = await operatorFiles();
    const certFile = await writeTemp(
      'junk.crt',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
    );
    await expectCode(loadProvidedTls({ certFile, keyFile }), 'TLS_BAD_PEM');
  });

  it('refuses a truncated key PEM', async () => {
    const { tls, certFile } = await operatorFiles();
    const keyFile = await writeTemp('cut.key', tls.key.slice(0, 60));
    await expectCode(loadProvidedTls({ certFile, keyFile }), 'TLS_BAD_PEM');
  });

  it('refuses an encrypted key and says it must be unencrypted', async () => {
    const { tls, certFile } = await operatorFiles();
    const encrypted = createPrivateKey(tls.key).export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'secret',
    });
    const keyFile = await writeTemp('enc.key', encrypted.toString());
    const err = await expectCode(loadProvidedTls({ certFile, keyFile }), 'TLS_BAD_PEM');
    expect(err.message).toContain('unencrypted');
  });

  it('reports a missing file by name', async () => {
    const { keyFile } = await operatorFiles();
    const certFile = join(await tempDir(), 'missing.crt');
    const err = await expectCode(loadProvidedTls({ certFile, keyFile }), 'TLS_FILE_UNREADABLE');
    expect(err.message).toContain(certFile);
  });

  it('refuses a certificate that is not valid now', async () => {
    const { certFile, keyFile } = await operatorFiles();
    const later = new Date(Date.now() + 400 * DAY_MS);
    await expectCode(loadProvidedTls({ certFile, keyFile, now: () => later }), 'TLS_CERT_EXPIRED');
  });

  it('refuses a CA file that did not issue the certificate', async () => {
    const mine = await operatorFiles();
    const other = await operatorFiles();
    const err = await expectCode(
      loadProvidedTls({ certFile: mine.certFile, keyFile: mine.keyFile, caFile: other.caFile }),
      'TLS_CA_MISMATCH',
    );
    expect(err.message).toContain(other.caFile);
  });

  it('accepts a CA file whose CA is also the last certificate of the chain', async () => {
    const { tls, keyFile, caFile } = await operatorFiles();
    const certFile = await writeTemp('chain.crt', tls.cert);
    expect(await readFile(certFile, 'utf8')).toContain(tls.ca!.trim());
    await expect(loadProvidedTls({ certFile, keyFile, caFile })).resolves.toMatchObject({ caPath: caFile });
  });
});
