/** Record sealing, per-record keys, passphrase policy and encrypted key-set export (docs/SECURITY.md). */
export {
  MAX_ID_BYTES,
  RECORD_KEY_BYTES,
  RECORD_KEY_INFO_PREFIX,
  RECORD_NONCE_BYTES,
  TEAM_SECRET_BYTES,
  deriveRecordKey,
  generateRecordNonce,
  generateTeamSecret,
  recordKeyInfo,
} from './record-keys.js';
export {
  MAX_RECORD_PLAINTEXT_BYTES,
  MAX_SEALED_RECORD_BYTES,
  RECORD_KEY_LENGTH,
  RECORD_SEAL_NONCE_BYTES,
  RECORD_SEAL_OVERHEAD,
  RECORD_SEAL_TAG_BYTES,
  RECORD_SEAL_VERSION,
  openRecord,
  recordSealAad,
  sealRecord,
} from './record-seal.js';
export type { OpenRecordInput, SealRecordInput } from './record-seal.js';
export {
  MAX_PASSPHRASE_CHARS,
  MIN_PASSPHRASE_BITS,
  MIN_PASSPHRASE_CHARS,
  assertStrongPassphrase,
  estimatePassphraseBits,
} from './passphrase-policy.js';
export {
  DEFAULT_SCRYPT_PARAMS,
  KDF_ID_SCRYPT,
  KEY_SET_FORMAT_VERSION,
  KEY_SET_MAGIC,
  KEY_SET_NAME_PATTERN,
  MAX_KEY_SET_ENTRIES,
  MAX_KEY_SET_ENTRY_BYTES,
  MAX_KEY_SET_PAYLOAD_BYTES,
  MAX_SCRYPT_MEMORY_BYTES,
  MAX_SCRYPT_PARAMS,
  MAX_SCRYPT_WORK,
  MIN_SCRYPT_PARAMS,
  assertScryptParams,
  exportKeySet,
  importKeySet,
} from './key-set-export.js';
export type { ExportKeySetOptions, ScryptParams } from './key-set-export.js';
