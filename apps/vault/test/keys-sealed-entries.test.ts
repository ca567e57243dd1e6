import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportKeySet, serializePublicKey, serializeSecretKey } from '@rune/crypto';
import { describe, expect, it } from 'vitest';
import { restoreKeySet } from '../src/keys/backup.js';
import { KeySetEntry, MAX_KEYSET_FILE_BYTES, generateVaultKeySet, keySetPath } from '../src/keys/key-set.js';
import { BACKUP_PASSPHRASE, FAST_SCRYPT, KEK, openKeys, testEngine } from './keys-fixtures.js';
import { caught, expectCode, tempDir } from './helpers.js';

const encoder = new TextEncoder();

/** The entries the Vault seals, with some replaced or removed: what a buggy or hostile writer could produce. */
function entries(overrides: Record<string, Uint8Array | undefined>): Map<string, Uint8Array> {
  const keySet = generateVaultKeySet(testEngine(), 1, 1_700_000_000_000);
  const base: Record<string, Uint8Array | undefined> = {
    [KeySetEntry.META]: encoder.encode(JSON.stringify({ version: 1, paramSetId: 1, createdAt: 1 })),
    [KeySetEntry.PUBLIC_KEY]: serializePublicKey(keySet.publicKey),
    [KeySetEntry.SECRET_KEY]: serializeSecretKey(keySet.secretKey),
    [KeySetEntry.TEAM_SECRET]: keySet.teamSecret,
    [KeySetEntry.SIGNING_SEED]: keySet.signingSeed,
    ...overrides,
  };
  const out = new Map<string, Uint8Array>();
  for (const [name, value] of Object.entries(base)) if (value !== undefined) out.set(name, value);
  return out;
}

/** Seals `map` under the test KEK as the data dir's key set and returns the error opening it. */
async function openingFails(map: Map<string, Uint8Array>) {
  const dataDir = await tempDir();
  await writeFile(keySetPath(dataDir), await exportKeySet(map, KEK.passphrase, { scrypt: FAST_SCRYPT }));
  return caught(() => openKeys(dataDir));
}

const meta = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

describe('sealed key-set entries', () => {
  it('opens a well-formed hand-sealed key set (the fixture itself is valid)', async () => {
    const dataDir = await tempDir();
    await writeFile(
      keySetPath(dataDir),
      await exportKeySet(entries({}), KEK.passphrase, { scrypt: FAST_SCRYPT }),
    );
    expect((await openKeys(dataDir)).keySet.createdAt).toBe(1);
  });

  it('refuses authentic key sets with malformed metadata as KEYSET_CORRUPT', async () => {
    for (const bad of [
      encoder.encode('{not json'),
      meta(null),
      meta({ version: 2, paramSetId: 1, createdAt: 1 }),
      meta({ version: 1, createdAt: 1 }),
      meta({ version: 1, paramSetId: 1, createdAt: -5 }),
      meta({ version: 1, paramSetId: 1 }),
    ]) {
      expectCode(await openingFails(entries({ [KeySetEntry.META]: bad })), 'KEYSET_CORRUPT');
    }
  });

  it('refuses authentic key sets whose keys or secrets are malformed or missing', async () => {
    const cases: Record<string, Uint8Array | undefined>[] = [
      { [KeySetEntry.SECRET_KEY]: new Uint8Array(100) },
      { [KeySetEntry.PUBLIC_KEY]: new Uint8Array(100) },
      { [KeySetEntry.TEAM_SECRET]: new Uint8Array(16) },
      { [KeySetEntry.SIGNING_SEED]: new Uint8Array(31) },
      { [KeySetEntry.SIGNING_SEED]: undefined },
    ];
    for (const overrides of cases) {
      expectCode(await openingFails(entries(overrides)), 'KEYSET_CORRUPT');
    }
  });

  it('refuses a key-set file larger than any key set without reading it', async () => {
    const dataDir = await tempDir();
    await writeFile(keySetPath(dataDir), new Uint8Array(MAX_KEYSET_FILE_BYTES + 1));
    expectCode(await caught(() => openKeys(dataDir)), 'KEYSET_CORRUPT');
  });

  it('reports an unusable data dir as STORAGE_FAILED', async () => {
    const dir = await tempDir();
    const file = join(dir, 'not-a-dir');
    await writeFile(file, 'x');
    expectCode(await caught(() => openKeys(join(file, 'data'))), 'STORAGE_FAILED');
    const backup = await exportKeySet(entries({}), BACKUP_PASSPHRASE, { scrypt: FAST_SCRYPT });
    const err = await caught(() =>
      restoreKeySet({
        backup,
        passphrase: BACKUP_PASSPHRASE,
        dataDir: join(file, 'data'),
        kek: KEK,
        scrypt: FAST_SCRYPT,
      }),
    );
    expectCode(err, 'STORAGE_FAILED');
    // A directory where the key set file should be is not silently replaced either.
    const dataDir = await tempDir();
    await mkdir(keySetPath(dataDir));
    expectCode(await caught(() => openKeys(dataDir)), 'STORAGE_FAILED');
  });
});
