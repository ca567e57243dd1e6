import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CA_CERT_FILE,
  CA_KEY_FILE,
  SERVER_CERT_FILE,
  SERVER_KEY_FILE,
  ensureSelfSignedTls,
} from '../src/index.js';
import { DAY_MS, daysAgo, expectCode, tempDir } from './helpers.js';

const SERVER_AUTH_OID = '1.3.6.1.5.5.7.3.1';

function leafOf(pem: string): X509Certificate {
  return new X509Certificate(pem);
}

describe('ensureSelfSignedTls', () => {
  it('creates a P-256 CA and a server certificate it signed for localhost, 127.0.0.1 and ::1', async () => {
    const tls = await ensureSelfSignedTls(await tempDir());
    const ca = new X509Certificate(tls.ca!);
    const leaf = leafOf(tls.cert);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca) && leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toContain('DNS:localhost');
    expect(leaf.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkIP('::1')).toBeDefined();
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.keyUsage).toEqual([SERVER_AUTH_OID]);
    expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(leaf.checkPrivateKey(createPrivateKey(tls.key))).toBe(true);
    expect(leaf.fingerprint256).toBe(tls.fingerprint256);
    const lifetimeDays = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / DAY_MS;
    expect(Math.round(lifetimeDays)).toBe(397);
    expect(Date.parse(ca.validTo) - Date.now()).toBeGreaterThan(9 * 365 * DAY_MS);
  });

  it('presents the server certificate first and the CA after it', async () => {
    const tls = await ensureSelfSignedTls(await tempDir());
    const blocks = tls.cert.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)!;
    expect(blocks).toHaveLength(2);
    expect(new X509Certificate(blocks[1]!).fingerprint256).toBe(new X509Certificate(tls.ca!).fingerprint256);
  });

  it('writes ca.crt, ca.key, server.crt and server.key holding the returned material', async () => {
    const dir = await tempDir();
    const tls = await ensureSelfSignedTls(dir);
    expect(tls.caPath).toBe(join(dir, CA_CERT_FILE));
    expect(tls.certPath).toBe(join(dir, SERVER_CERT_FILE));
    expect(tls.keyPath).toBe(join(dir, SERVER_KEY_FILE));
    expect(await readFile(tls.caPath!, 'utf8')).toBe(tls.ca);
    expect(await readFile(tls.keyPath, 'utf8')).toBe(tls.key);
    expect(leafOf(await readFile(tls.certPath, 'utf8')).fingerprint256).toBe(tls.fingerprint256);
    const caKey = createPrivateKey(await readFile(join(dir, CA_KEY_FILE), 'utf8'));
    expect(new X509Certificate(tls.ca!).checkPrivateKey(caKey)).toBe(true);
  });

  it.skipIf(process.platform === 'win32')('keeps the directory at 0700 and the keys at 0600', async () => {
    const dir = join(await tempDir(), 'tls');
    await ensureSelfSignedTls(dir);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, CA_KEY_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, SERVER_KEY_FILE))).mode & 0o777).toBe(0o600);
  });

  it('reuses the stored certificate and key on a later call', async () => {
    const dir = await tempDir();
    const first = await ensureSelfSignedTls(dir);
    const second = await ensureSelfSignedTls(dir);
    expect(second.fingerprint256).toBe(first.fingerprint256);
    expect(second.key).toBe(first.key);
    expect(second.ca).toBe(first.ca);
  });

  it('adds requested names as DNS names and addresses as IP names', async () => {
    const tls = await ensureSelfSignedTls(await tempDir(), {
      hosts: ['Rune.Internal.', '10.1.2.3', 'fd00::5'],
    });
    const leaf = leafOf(tls.cert);
    expect(leaf.subjectAltName).toContain('DNS:rune.internal');
    expect(leaf.subjectAltName).toContain('IP Address:10.1.2.3');
    expect(leaf.subjectAltName).not.toContain('DNS:10.1.2.3');
    expect(leaf.checkIP('fd00::5')).toBeDefined();
    expect(leaf.checkHost('localhost')).toBe('localhost');
  });

  it('re-issues with the same CA when a requested host is missing', async () => {
    const dir = await tempDir();
    const first = await ensureSelfSignedTls(dir);
    const second = await ensureSelfSignedTls(dir, { hosts: ['vault.example.org'] });
    expect(second.fingerprint256).not.toBe(first.fingerprint256);
    expect(second.ca).toBe(first.ca);
    expect(leafOf(second.cert).checkHost('vault.example.org')).toBe('vault.example.org');
  });

  it('re-issues an expired server certificate with the same CA', async () => {
    const dir = await tempDir();
    const old = await ensureSelfSignedTls(dir, { now: daysAgo(2 * 365) });
    expect(Date.parse(leafOf(old.cert).validTo)).toBeLessThan(Date.now());
    const renewed = await ensureSelfSignedTls(dir);
    const leaf = leafOf(renewed.cert);
    expect(renewed.fingerprint256).not.toBe(old.fingerprint256);
    expect(renewed.ca).toBe(old.ca);
    expect(renewed.key).not.toBe(old.key);
    expect(Date.parse(leaf.validTo)).toBeGreaterThan(Date.now() + 300 * DAY_MS);
    expect(leaf.verify(new X509Certificate(renewed.ca!).publicKey)).toBe(true);
  });

  it('re-issues a server certificate that expires within 30 days', async () => {
    const dir = await tempDir();
    const old = await ensureSelfSignedTls(dir, { now: daysAgo(397 - 10) });
    const renewed = await ensureSelfSignedTls(dir);
    expect(renewed.fingerprint256).not.toBe(old.fingerprint256);
    expect(renewed.ca).toBe(old.ca);
  });

  it('honours validityDays', async () => {
    const tls = await ensureSelfSignedTls(await tempDir(), { validityDays: 90 });
    const leaf = leafOf(tls.cert);
    expect(Math.round((Date.parse(leaf.validTo) - Date.now()) / DAY_MS)).toBe(90);
  });

  it('replaces a damaged server certificate instead of failing', async () => {
    const dir = await tempDir();
    const first = await ensureSelfSignedTls(dir);
    await writeFile(join(dir, SERVER_CERT_FILE), '-----BEGIN CERTIFICATE-----\nMIIB');
    const second = await ensureSelfSignedTls(dir);
    expect(second.fingerprint256).not.toBe(first.fingerprint256);
    expect(second.ca).toBe(first.ca);
  });

  it('replaces a server certificate that another CA issued', async () => {
    const dir = await tempDir();
    const other = await ensureSelfSignedTls(await tempDir());
    const mine = await ensureSelfSignedTls(dir);
    await writeFile(join(dir, SERVER_CERT_FILE), await readFile(other.certPath));
    await writeFile(join(dir, SERVER_KEY_FILE), other.key);
    const again = await ensureSelfSignedTls(dir);
    expect(again.fingerprint256).not.toBe(other.fingerprint256);
    expect(leafOf(again.cert).verify(new X509Certificate(mine.ca!).publicKey)).toBe(true);
  });

  it('refuses a ca.crt whose ca.key is missing rather than minting a CA clients do not trust', async () => {
    const dir = await tempDir();
    await ensureSelfSignedTls(dir);
    await rm(join(dir, CA_KEY_FILE));
    const err = await expectCode(ensureSelfSignedTls(dir), 'TLS_FILE_UNREADABLE');
    expect(err.message).toContain(join(dir, CA_KEY_FILE));
  });

  it('replaces a stray ca.key left without ca.crt by an interrupted first start', async () => {
    const dir = await tempDir();
    await ensureSelfSignedTls(dir);
    await rm(join(dir, CA_CERT_FILE));
    const tls = await ensureSelfSignedTls(dir);
    const caKey = createPrivateKey(await readFile(join(dir, CA_KEY_FILE), 'utf8'));
    expect(new X509Certificate(tls.ca!).checkPrivateKey(caKey)).toBe(true);
  });

  it('refuses a ca.key that belongs to another CA', async () => {
    const dir = await tempDir();
    const otherDir = await tempDir();
    await ensureSelfSignedTls(dir);
    await ensureSelfSignedTls(otherDir);
    await writeFile(join(dir, CA_KEY_FILE), await readFile(join(otherDir, CA_KEY_FILE)));
    await expectCode(ensureSelfSignedTls(dir), 'TLS_KEY_MISMATCH');
  });

  it('refuses a truncated ca.crt', async () => {
    const dir = await tempDir();
    const tls = await ensureSelfSignedTls(dir);
    await writeFile(tls.caPath!, tls.ca!.slice(0, 200));
    await expectCode(ensureSelfSignedTls(dir), 'TLS_BAD_PEM');
  });

  it('refuses an expired CA and says how to replace it', async () => {
    const dir = await tempDir();
    await ensureSelfSignedTls(dir, { now: daysAgo(11 * 365) });
    const err = await expectCode(ensureSelfSignedTls(dir), 'TLS_CERT_EXPIRED');
    expect(err.message).toContain('delete ca.crt and ca.key');
  });

  it('reports a directory it cannot create', async () => {
    const file = join(await tempDir(), 'not-a-dir');
    await writeFile(file, '');
    await expectCode(ensureSelfSignedTls(join(file, 'tls')), 'TLS_DIR_UNUSABLE');
  });

  it.each([['bad host!'], [''], ['*.example.org'], ['a'.repeat(64) + '.org']])(
    'refuses the host %j',
    async (host) => {
      await expectCode(ensureSelfSignedTls(await tempDir(), { hosts: [host] }), 'INVALID_ARGUMENT');
    },
  );

  it.each([[30], [0], [1.5], [Number.NaN]])('refuses validityDays %d', async (validityDays) => {
    await expectCode(ensureSelfSignedTls(await tempDir(), { validityDays }), 'INVALID_ARGUMENT');
  });
});
