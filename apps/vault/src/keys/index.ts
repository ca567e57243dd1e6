/** Key custody: the sealed key set, the KEK, the published key members pin, backup and restore. */
export { backupKeySet, restoreKeySet, type BackupOptions, type RestoreKeySetOptions } from './backup.js';
export { MAX_KEK_FILE_BYTES, kekFromSources, type KekSources } from './kek.js';
export {
  KEYSET_FILE_NAME,
  KEYSET_VERSION,
  KeySetEntry,
  MAX_KEYSET_FILE_BYTES,
  destroyKeySet,
  keySetPath,
  openExistingKeySet,
  openOrCreateKeySet,
  type Kek,
  type OpenOrCreateKeySetOptions,
  type OpenedKeySet,
  type VaultKeySet,
} from './key-set.js';
export {
  publicKeyHashOf,
  publishKey,
  publishedKeySigningInput,
  verifyPublishedKey,
  type PublishedKey,
  type VerifiedPublishedKey,
  type VerifyPublishedKeyOptions,
} from './published-key.js';
export { KEYSET_FILE_MODE } from './sealed-file.js';
