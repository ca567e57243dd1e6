import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serializePublicKey, serializeSecretKey } from '@rune/crypto';
import { describe, expect, it } from 'vitest';
import { KEYSET_FILE_NAME, destroyKeySet, keySetPath, type VaultKeySet } from '../src/keys/key-set.js';
import { publishKey } from '../src/keys/published-key.js';
import { KEK, containsBytes, openKeys } from './keys-fixtures.js';
import { caught, expectCode, tempDir } from './helpers.js';

function expectSameKeys(a: VaultKeySet, b: VaultKeySet): void {
  expect(publishKey(b).publicKeyHash).toBe(publishKey(a).publicKeyHash);
  expect(Buffer.from(b.teamSecret).equals(Buffer.from(a.teamSecret))).toBe(true);
  expect(Buffer.from(b.signingSeed).equals(Buffer.from(a.signingSeed))).toBe(true);
  expect(Buffer.from(b.secretKey.coeffs).equals(Buffer.from(a.secretKey.coeffs))).toBe(true);
  expect(b.createdAt).toBe(a.createdAt);
}

/** Runs `mutate` on the sealed file, then checks the next start refuses it with `code` and leaves it as mutated. */
async function expectRefusedAfter(
  mutate: (bytes: Uint8Array) => Uint8Array,
  code: 'KEYS_LOCKED' | 'KEYSET_CORRUPT',
): Promise<void> {
  const dataDir = await tempDir();
  await openKeys(dataDir);
  const path = keySetPath(dataDir);
  const tampered = mutate(new Uint8Array(await readFile(path)));
  await writeFile(path, tampered);
  expectCode(await caught(() => openKeys(dataDir)), code);
  // Never regenerated over: the file is exactly what the attacker (or the disk) left.
  expect(Buffer.from(await readFile(path)).equals(Buffer.from(tampered))).toBe(true);
}

describe('openOrCreateKeySet', () => {
  it('generates a key set on first start and opens the same keys on the second', async () => {
    const dataDir = await tempDir();
    const first = await openKeys(dataDir);
    expect(first.isNew).toBe(true);
    expect(first.path).toBe(join(dataDir, KEYSET_FILE_NAME));
    expect(first.keySet.paramSetId).toBe(1);
    expect(first.keySet.teamSecret).toHaveLength(32);
    expect(first.keySet.signingSeed).toHaveLength(32);

    const second = await openKeys(dataDir);
    expect(second.isNew).toBe(false);
    expectSameKeys(first.keySet, second.keySet);
  });

  it('writes the sealed key set with mode 0600', async () => {
    const dataDir = await tempDir();
    await openKeys(dataDir);
    expect((await stat(keySetPath(dataDir))).mode & 0o777).toBe(0o600);
  });

  it('never writes the team secret, the signing seed or the serialised secret key in the clear', async () => {
    const dataDir = await tempDir();
    const { keySet } = await openKeys(dataDir);
    const sealed = new Uint8Array(await readFile(keySetPath(dataDir)));
    const secretKeyBytes = serializeSecretKey(keySet.secretKey);
    expect(containsBytes(sealed, keySet.teamSecret)).toBe(false);
    expect(containsBytes(sealed, keySet.signingSeed)).toBe(false);
    // The coefficient payload alone (after the 24-byte header), and any 32-byte window of it.
    for (let i = 24; i + 32 <= secretKeyBytes.length; i += 32) {
      expect(containsBytes(sealed, secretKeyBytes.subarray(i, i + 32))).toBe(false);
    }
    // Sanity of the check itself: the public key is sealed too, so it is not visible either.
    expect(containsBytes(sealed, serializePublicKey(keySet.publicKey).subarray(24, 56))).toBe(false);
  });

  it('refuses a wrong KEK with KEYS_LOCKED and leaves the key set untouched', async () => {
    const dataDir = await tempDir();
    await openKeys(dataDir);
    const before = await readFile(keySetPath(dataDir));
    const err = await caught(() => openKeys(dataDir, { passphrase: 'another-Strong-passphrase-42-river' }));
    expectCode(err, 'KEYS_LOCKED');
    expect(err.message).not.toContain('another-Strong');
    expect((await readFile(keySetPath(dataDir))).equals(before)).toBe(true);
  });

  it('refuses a sealed file with one flipped ciphertext byte', async () => {
    await expectRefusedAfter((b) => {
      b[b.length >> 1]! ^= 0x01;
      return b;
    }, 'KEYS_LOCKED');
  });

  it('refuses a sealed file with a flipped header byte (the scrypt salt is authenticated)', async () => {
    await expectRefusedAfter((b) => {
      b[20]! ^= 0x80;
      return b;
    }, 'KEYS_LOCKED');
  });

  it('refuses a sealed file whose magic bytes were altered as corrupt', async () => {
    await expectRefusedAfter((b) => {
      b[0]! ^= 0xff;
      return b;
    }, 'KEYSET_CORRUPT');
  });

  it('refuses a truncated sealed file', async () => {
    await expectRefusedAfter((b) => b.subarray(0, b.length - 1), 'KEYS_LOCKED');
    await expectRefusedAfter((b) => b.subarray(0, 40), 'KEYSET_CORRUPT');
    await expectRefusedAfter(() => new Uint8Array(0), 'KEYSET_CORRUPT');
  });

  it('refuses to open a key set made for another parameter set', async () => {
    const dataDir = await tempDir();
    await openKeys(dataDir);
    expectCode(await caught(() => openKeys(dataDir, KEK, 2)), 'INVALID_REQUEST');
  });

  it('refuses to create a key set under a weak KEK, writing nothing', async () => {
    const dataDir = await tempDir();
    const err = await caught(() => openKeys(dataDir, { passphrase: 'password123!' }));
    expectCode(err, 'WEAK_PASSPHRASE');
    await expect(stat(keySetPath(dataDir))).rejects.toThrow();
  });

  it('refuses an over-long KEK as an invalid request', async () => {
    const long = { passphrase: `${KEK.passphrase} `.repeat(40) + 'x'.repeat(1024) };
    expectCode(await caught(async () => openKeys(await tempDir(), long)), 'INVALID_REQUEST');
  });

  it('refuses an empty KEK', async () => {
    expectCode(await caught(async () => openKeys(await tempDir(), { passphrase: '' })), 'KEK_INVALID');
  });

  it('lets exactly one of two concurrent first starts create the keys; both end up with the same keys', async () => {
    const dataDir = await tempDir();
    const [a, b] = await Promise.all([openKeys(dataDir), openKeys(dataDir)]);
    expect([a.isNew, b.isNew].filter(Boolean)).toHaveLength(1);
    expectSameKeys(a.keySet, b.keySet);
  });

  it('zeroes the secret parts when a key set is destroyed', async () => {
    const { keySet } = await openKeys(await tempDir());
    destroyKeySet(keySet);
    expect(keySet.teamSecret.every((x) => x === 0)).toBe(true);
    expect(keySet.signingSeed.every((x) => x === 0)).toBe(true);
    expect(keySet.secretKey.coeffs.every((x) => x === 0)).toBe(true);
  });
});
