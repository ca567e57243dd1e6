import { existsSync } from 'node:fs';
import type { ScryptParams } from '@rune/crypto';
import { VaultError, VaultErrorCode } from '../errors.js';
import {
  MAX_KEYSET_FILE_BYTES,
  destroyKeySet,
  keySetPath,
  sealKeySet,
  unsealKeySet,
  type Kek,
  type VaultKeySet,
} from './key-set.js';
import { writeBytesAtomicSync } from '../atomic-file.js';

/**
 * Key backup (DESIGN §5): the same sealed format as keyset.sealed, under a backup passphrase
 * instead of the KEK, so losing the KEK or the data disk does not lose the team's memory.
 * Anyone holding the backup and its passphrase holds the secret key: store them apart.
 */

export interface BackupOptions {
  readonly scrypt?: Partial<ScryptParams>;
}

/** Encrypted export of the whole key set. Throws WEAK_PASSPHRASE (with the policy's advice). */
export async function backupKeySet(
  keySet: VaultKeySet,
  passphrase: string,
  options: BackupOptions = {},
): Promise<Uint8Array> {
  return sealKeySet(keySet, passphrase, options.scrypt, 'the backup passphrase');
}

export interface RestoreKeySetOptions {
  readonly backup: Uint8Array;
  /** The backup's passphrase. */
  readonly passphrase: string;
  readonly dataDir: string;
  /** The KEK the restored key set is sealed under in dataDir. */
  readonly kek: Kek;
  /**
   * Replace an existing key set. DANGER: the replaced secret key is gone unless it has its own
   * backup, and every memory encrypted under it becomes unreadable.
   */
  readonly force?: boolean;
  readonly scrypt?: Partial<ScryptParams>;
}

/**
 * Opens a backup and writes it as `<dataDir>/keyset.sealed` under the KEK. Throws KEYS_LOCKED
 * (wrong backup passphrase or modified backup), KEYSET_CORRUPT (not a key-set backup), CONFLICT
 * (a key set already exists and `force` is not set), WEAK_PASSPHRASE (weak KEK).
 */
export async function restoreKeySet(options: RestoreKeySetOptions): Promise<VaultKeySet> {
  const path = keySetPath(options.dataDir);
  const force = options.force ?? false;
  const conflict = (): VaultError =>
    new VaultError(
      VaultErrorCode.CONFLICT,
      `${path} already exists; restoring over it would destroy its keys. Move it aside, or restore with force`,
      { reason: 'key set exists' },
    );
  // Checked first to fail fast; the final no-overwrite write enforces it atomically.
  if (!force && existsSync(path)) throw conflict();
  if (options.backup.length > MAX_KEYSET_FILE_BYTES) {
    throw new VaultError(VaultErrorCode.KEYSET_CORRUPT, 'the backup is larger than any key set', {
      reason: 'backup oversized',
    });
  }
  if (options.kek.passphrase.length === 0) {
    throw new VaultError(VaultErrorCode.KEK_INVALID, 'the key-encryption key passphrase is empty', {
      reason: 'empty KEK',
    });
  }
  const keySet = await unsealKeySet(options.backup, options.passphrase, 'the backup');
  try {
    const sealed = await sealKeySet(keySet, options.kek.passphrase, options.scrypt, 'the key-encryption key');
    try {
      writeBytesAtomicSync(path, sealed, { overwrite: force });
    } catch (err: unknown) {
      if (err instanceof VaultError && err.code === VaultErrorCode.CONFLICT) throw conflict();
      throw err;
    }
    return keySet;
  } catch (err: unknown) {
    destroyKeySet(keySet);
    throw err;
  }
}
