import { readFile, stat } from 'node:fs/promises';
import { exportKeySet } from '@rune/crypto';
import { describe, expect, it } from 'vitest';
import { backupKeySet, restoreKeySet } from '../src/keys/backup.js';
import { keySetPath, type VaultKeySet } from '../src/keys/key-set.js';
import { publishKey } from '../src/keys/published-key.js';
import { BACKUP_PASSPHRASE, FAST_SCRYPT, KEK, containsBytes, openKeys } from './keys-fixtures.js';
import { caught, expectCode, tempDir } from './helpers.js';

const NEW_KEK = Object.freeze({ passphrase: 'copper-Meadow-signal-81-drifting-oak' });

function sameKeys(a: VaultKeySet, b: VaultKeySet): boolean {
  return (
    publishKey(a).publicKeyHash === publishKey(b).publicKeyHash &&
    Buffer.from(a.teamSecret).equals(Buffer.from(b.teamSecret)) &&
    Buffer.from(a.signingSeed).equals(Buffer.from(b.signingSeed)) &&
    Buffer.from(a.secretKey.coeffs).equals(Buffer.from(b.secretKey.coeffs))
  );
}

async function backedUp(): Promise<{ keySet: VaultKeySet; backup: Uint8Array }> {
  const { keySet } = await openKeys(await tempDir());
  return { keySet, backup: await backupKeySet(keySet, BACKUP_PASSPHRASE, { scrypt: FAST_SCRYPT }) };
}

function restore(backup: Uint8Array, dataDir: string, extra: { force?: boolean; passphrase?: string } = {}) {
  return restoreKeySet({
    backup,
    passphrase: extra.passphrase ?? BACKUP_PASSPHRASE,
    dataDir,
    kek: NEW_KEK,
    scrypt: FAST_SCRYPT,
    ...(extra.force === undefined ? {} : { force: extra.force }),
  });
}

describe('key backup and restore', () => {
  it('restores a backup into a fresh data dir, sealed under the new KEK, with the same keys', async () => {
    const { keySet, backup } = await backedUp();
    expect(containsBytes(backup, keySet.teamSecret)).toBe(false);
    expect(containsBytes(backup, keySet.signingSeed)).toBe(false);

    const dataDir = await tempDir();
    const restored = await restore(backup, dataDir);
    expect(sameKeys(restored, keySet)).toBe(true);
    expect(restored.createdAt).toBe(keySet.createdAt);
    expect((await stat(keySetPath(dataDir))).mode & 0o777).toBe(0o600);

    // The Vault then starts on the restored keys with its KEK (and not with the old one).
    const reopened = await openKeys(dataDir, NEW_KEK);
    expect(reopened.isNew).toBe(false);
    expect(sameKeys(reopened.keySet, keySet)).toBe(true);
    expectCode(await caught(() => openKeys(dataDir, KEK)), 'KEYS_LOCKED');
  });

  it("refuses a weak backup passphrase with the policy's advice", async () => {
    const { keySet } = await openKeys(await tempDir());
    for (const weak of ['short', 'P@ssw0rd2024!', 'abcabcabcabcabc']) {
      const err = await caught(() => backupKeySet(keySet, weak, { scrypt: FAST_SCRYPT }));
      expectCode(err, 'WEAK_PASSPHRASE');
      expect(err.message).toContain('random words');
    }
  });

  it('refuses a wrong backup passphrase and a modified backup with KEYS_LOCKED, writing nothing', async () => {
    const { backup } = await backedUp();
    const dataDir = await tempDir();
    expectCode(
      await caught(() => restore(backup, dataDir, { passphrase: NEW_KEK.passphrase })),
      'KEYS_LOCKED',
    );
    const modified = Uint8Array.from(backup);
    modified[modified.length - 1]! ^= 0x01;
    expectCode(await caught(() => restore(modified, dataDir)), 'KEYS_LOCKED');
    await expect(stat(keySetPath(dataDir))).rejects.toThrow();
  });

  it('refuses bytes that are not a key-set backup as KEYSET_CORRUPT', async () => {
    const dataDir = await tempDir();
    expectCode(await caught(() => restore(new TextEncoder().encode('hello'), dataDir)), 'KEYSET_CORRUPT');
    expectCode(await caught(() => restore(new Uint8Array(5 * 1024 * 1024), dataDir)), 'KEYSET_CORRUPT');
  });

  it('refuses an authentic export whose entries are not a Vault key set', async () => {
    const dataDir = await tempDir();
    const { keySet } = await openKeys(await tempDir());
    const missing = await exportKeySet({ 'team.secret': keySet.teamSecret }, BACKUP_PASSPHRASE, {
      scrypt: FAST_SCRYPT,
    });
    expect((await caught(() => restore(missing, dataDir))).code).toBe('KEYSET_CORRUPT');
    const extra = await exportKeySet(
      { 'team.secret': keySet.teamSecret, 'smuggled.entry': new Uint8Array(1) },
      BACKUP_PASSPHRASE,
      { scrypt: FAST_SCRYPT },
    );
    const err = await caught(() => restore(extra, dataDir));
    expectCode(err, 'KEYSET_CORRUPT');
    expect(err.reason).toContain('smuggled.entry');
  });

  it('refuses to restore over an existing key set unless forced', async () => {
    const { keySet, backup } = await backedUp();
    const dataDir = await tempDir();
    const existing = await openKeys(dataDir, NEW_KEK);
    const before = await readFile(keySetPath(dataDir));
    expectCode(await caught(() => restore(backup, dataDir)), 'CONFLICT');
    expect((await readFile(keySetPath(dataDir))).equals(before)).toBe(true);

    const restored = await restore(backup, dataDir, { force: true });
    expect(sameKeys(restored, keySet)).toBe(true);
    const reopened = await openKeys(dataDir, NEW_KEK);
    expect(sameKeys(reopened.keySet, keySet)).toBe(true);
    expect(sameKeys(reopened.keySet, existing.keySet)).toBe(false);
  });

  it('refuses an empty KEK for the restored key set', async () => {
    const { backup } = await backedUp();
    const err = await caught(() =>
      restoreKeySet({ backup, passphrase: BACKUP_PASSPHRASE, dataDir: 'unused', kek: { passphrase: '' } }),
    );
    expectCode(err, 'KEK_INVALID');
  });
});
