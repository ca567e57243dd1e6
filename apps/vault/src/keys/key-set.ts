import { join } from 'node:path';
import {
  TEAM_SECRET_BYTES,
  exportKeySet,
  generateKeyPair,
  generateTeamSecret,
  importKeySet,
  isCryptoError,
  parsePublicKey,
  parseSecretKey,
  serializePublicKey,
  serializeSecretKey,
  type Engine,
  type PublicKey,
  type ScryptParams,
  type SecretKey,
} from '@rune/crypto';
import { PRIVATE_KEY_BYTES, createSigner, generateSigningKeyPair } from '@rune/protocol';
import { VaultError, VaultErrorCode, invalidRequest } from '../errors.js';
import type { Clock } from '../rate-limiter.js';
import { writeBytesAtomicSync } from '../atomic-file.js';
import { readBoundedFileSync } from './sealed-file.js';

export const KEYSET_FILE_NAME = 'keyset.sealed';
/** Version of the entry layout below (the sealing format has its own version). */
export const KEYSET_VERSION = 1;
/** Far above any parameter set's keys (about 80 KiB), far below what would hurt to read. */
export const MAX_KEYSET_FILE_BYTES = 4 * 1024 * 1024;

/** Names of the sealed entries; changing one breaks every existing key set and backup. */
export const KeySetEntry = {
  META: 'meta.json',
  PUBLIC_KEY: 'rlwe.public',
  SECRET_KEY: 'rlwe.secret',
  TEAM_SECRET: 'team.secret',
  SIGNING_SEED: 'vault.signing-seed',
} as const;

/** The key-encryption key: a passphrase (from a file or the environment; a KMS later). */
export interface Kek {
  readonly passphrase: string;
}

/**
 * Everything the Vault's custody covers.
 * SECURITY: secretKey, teamSecret and signingSeed never leave the Vault process except sealed
 * (keyset.sealed under the KEK, or a backup under its passphrase). Never log or serialise them.
 */
export interface VaultKeySet {
  readonly paramSetId: number;
  readonly secretKey: SecretKey;
  readonly publicKey: PublicKey;
  /** HKDF input keying material of every record key (TEAM_SECRET_BYTES). */
  readonly teamSecret: Uint8Array;
  /** Ed25519 seed of the key that signs permits, tickets and the published key. */
  readonly signingSeed: Uint8Array;
  /** When the key set was first generated, ms since the Unix epoch. */
  readonly createdAt: number;
}

export interface OpenOrCreateKeySetOptions {
  readonly dataDir: string;
  readonly kek: Kek;
  /** Parameter set for a new key set; an existing one must match it. */
  readonly paramSetId: number;
  readonly engine: Engine;
  readonly clock?: Clock;
  /** scrypt cost of the seal (defaults to @rune/crypto's DEFAULT_SCRYPT_PARAMS; tests use the minimum). */
  readonly scrypt?: Partial<ScryptParams>;
}

export interface OpenedKeySet {
  readonly keySet: VaultKeySet;
  /** True when this call generated the keys (worth an audit entry and a backup reminder). */
  readonly isNew: boolean;
  readonly path: string;
}

interface KeySetMeta {
  readonly version: number;
  readonly paramSetId: number;
  readonly createdAt: number;
}

export function keySetPath(dataDir: string): string {
  return join(dataDir, KEYSET_FILE_NAME);
}

/** Overwrites the secret parts in memory; the key set is unusable afterwards. */
export function destroyKeySet(keySet: VaultKeySet): void {
  keySet.secretKey.coeffs.fill(0);
  keySet.teamSecret.fill(0);
  keySet.signingSeed.fill(0);
}

function assertKek(kek: Kek): void {
  if (typeof kek.passphrase !== 'string' || kek.passphrase.length === 0) {
    throw new VaultError(VaultErrorCode.KEK_INVALID, 'the key-encryption key passphrase is empty', {
      reason: 'empty KEK',
    });
  }
}

/** Maps @rune/crypto's sealing errors to Vault codes; `what` names the sealed thing for the message. */
export function translateSealError(err: unknown, what: string): unknown {
  if (isCryptoError(err, 'WEAK_PASSPHRASE')) {
    return new VaultError(VaultErrorCode.WEAK_PASSPHRASE, `${what}: ${err.message}`, {
      reason: 'weak passphrase',
      cause: err,
    });
  }
  if (isCryptoError(err, 'DECRYPTION_FAILED')) {
    return new VaultError(
      VaultErrorCode.KEYS_LOCKED,
      `${what} does not open with this passphrase: the passphrase is wrong, or the file was modified`,
      { reason: 'sealed key set failed authentication', cause: err },
    );
  }
  if (isCryptoError(err)) {
    return new VaultError(VaultErrorCode.KEYSET_CORRUPT, `${what} is not a valid key set: ${err.message}`, {
      reason: err.code,
      cause: err,
    });
  }
  return err;
}

/**
 * Seals the key set under `passphrase`. The serialised secret key exists in the clear only
 * inside this function and is zeroed before it returns.
 */
export async function sealKeySet(
  keySet: VaultKeySet,
  passphrase: string,
  scrypt: Partial<ScryptParams> | undefined,
  what: string,
): Promise<Uint8Array> {
  const meta: KeySetMeta = {
    version: KEYSET_VERSION,
    paramSetId: keySet.paramSetId,
    createdAt: keySet.createdAt,
  };
  // SECRET: the clear secret key; zeroed in `finally` whatever happens.
  const secretKeyBytes = serializeSecretKey(keySet.secretKey);
  try {
    const entries = new Map<string, Uint8Array>([
      [KeySetEntry.META, new TextEncoder().encode(JSON.stringify(meta))],
      [KeySetEntry.PUBLIC_KEY, serializePublicKey(keySet.publicKey)],
      [KeySetEntry.SECRET_KEY, secretKeyBytes],
      [KeySetEntry.TEAM_SECRET, keySet.teamSecret],
      [KeySetEntry.SIGNING_SEED, keySet.signingSeed],
    ]);
    return await exportKeySet(entries, passphrase, scrypt === undefined ? {} : { scrypt });
  } catch (err: unknown) {
    // On export, MALFORMED_INPUT means an over-long passphrase, not a corrupt key set.
    if (isCryptoError(err, 'MALFORMED_INPUT')) throw invalidRequest(`${what}: ${err.message}`);
    throw translateSealError(err, what);
  } finally {
    secretKeyBytes.fill(0);
  }
}

function corrupt(what: string, detail: string, cause?: unknown): VaultError {
  return new VaultError(VaultErrorCode.KEYSET_CORRUPT, `${what} is not a valid key set: ${detail}`, {
    reason: detail,
    ...(cause === undefined ? {} : { cause }),
  });
}

function parseMeta(bytes: Uint8Array, what: string): KeySetMeta {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err: unknown) {
    throw corrupt(what, 'its metadata is not JSON', err);
  }
  if (typeof raw !== 'object' || raw === null) throw corrupt(what, 'its metadata is not an object');
  const { version, paramSetId, createdAt } = raw as Record<string, unknown>;
  if (version !== KEYSET_VERSION) {
    throw corrupt(what, `unknown key-set version ${String(version)}; this build reads ${KEYSET_VERSION}`);
  }
  if (typeof paramSetId !== 'number' || !Number.isSafeInteger(paramSetId)) {
    throw corrupt(what, 'its metadata has no parameter set');
  }
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || createdAt < 0) {
    throw corrupt(what, 'its metadata has no creation time');
  }
  return { version, paramSetId, createdAt };
}

/**
 * Opens a sealed key set. All decrypted entries are zeroed before return; the returned key set
 * holds its own copies. Every entry is checked: a key set that opens but does not parse is
 * KEYSET_CORRUPT, never patched or regenerated.
 */
export async function unsealKeySet(
  sealed: Uint8Array,
  passphrase: string,
  what: string,
): Promise<VaultKeySet> {
  let entries: Map<string, Uint8Array>;
  try {
    entries = await importKeySet(sealed, passphrase);
  } catch (err: unknown) {
    throw translateSealError(err, what);
  }
  let secretKey: SecretKey | undefined;
  try {
    const known = new Set<string>(Object.values(KeySetEntry));
    for (const name of entries.keys()) {
      if (!known.has(name)) throw corrupt(what, `unexpected entry "${name}"`);
    }
    const entry = (name: string): Uint8Array => {
      const value = entries.get(name);
      if (value === undefined) throw corrupt(what, `entry "${name}" is missing`);
      return value;
    };
    const meta = parseMeta(entry(KeySetEntry.META), what);
    const expected = { paramSetId: meta.paramSetId };
    let publicKey: PublicKey;
    try {
      secretKey = parseSecretKey(entry(KeySetEntry.SECRET_KEY), expected);
      publicKey = parsePublicKey(entry(KeySetEntry.PUBLIC_KEY), expected);
    } catch (err: unknown) {
      if (!isCryptoError(err)) throw err;
      throw corrupt(what, `a key does not parse (${err.message})`, err);
    }
    const teamSecret = entry(KeySetEntry.TEAM_SECRET);
    const signingSeed = entry(KeySetEntry.SIGNING_SEED);
    if (teamSecret.length !== TEAM_SECRET_BYTES) throw corrupt(what, 'the team secret has the wrong length');
    if (signingSeed.length !== PRIVATE_KEY_BYTES)
      throw corrupt(what, 'the signing seed has the wrong length');
    try {
      createSigner(signingSeed);
    } catch (err: unknown) {
      throw corrupt(what, 'the signing seed is not an Ed25519 key', err);
    }
    const keySet: VaultKeySet = {
      paramSetId: meta.paramSetId,
      secretKey,
      publicKey,
      teamSecret: Uint8Array.from(teamSecret),
      signingSeed: Uint8Array.from(signingSeed),
      createdAt: meta.createdAt,
    };
    secretKey = undefined;
    return keySet;
  } finally {
    // SECURITY: the decrypted entries are clear secrets; nothing may keep a reference to them.
    for (const value of entries.values()) value.fill(0);
    secretKey?.coeffs.fill(0);
  }
}

/** Fresh keys for a new Vault. Only called when no key set file exists. */
export function generateVaultKeySet(engine: Engine, paramSetId: number, createdAt: number): VaultKeySet {
  const { secretKey, publicKey } = generateKeyPair(engine, paramSetId);
  const signing = generateSigningKeyPair();
  return {
    paramSetId,
    secretKey,
    publicKey,
    teamSecret: generateTeamSecret(),
    signingSeed: Uint8Array.from(signing.privateKey),
    createdAt,
  };
}

function assertParamSet(keySet: VaultKeySet, paramSetId: number, path: string): void {
  if (keySet.paramSetId !== paramSetId) {
    destroyKeySet(keySet);
    throw new VaultError(
      VaultErrorCode.INVALID_REQUEST,
      `${path} holds keys for parameter set ${keySet.paramSetId}, but parameter set ${paramSetId} is ` +
        'configured; a Vault cannot switch parameter sets without re-encrypting every memory',
      { reason: 'parameter set mismatch' },
    );
  }
}

/**
 * First start: generates the whole key set and writes `<dataDir>/keyset.sealed` (mode 0600),
 * sealed under the KEK. Later starts: opens that file.
 *
 * SECURITY INVARIANT: an existing key set file is NEVER regenerated or overwritten here, whatever
 * its state (wrong KEK, corrupt, truncated): regenerating would silently orphan every memory the
 * team has stored. Failures are KEYS_LOCKED / KEYSET_CORRUPT and the operator decides.
 */
export async function openOrCreateKeySet(options: OpenOrCreateKeySetOptions): Promise<OpenedKeySet> {
  assertKek(options.kek);
  const path = keySetPath(options.dataDir);
  const what = `the sealed key set ${path}`;
  const existing = readBoundedFileSync(path, MAX_KEYSET_FILE_BYTES);
  if (existing !== undefined) {
    const keySet = await unsealKeySet(existing, options.kek.passphrase, what);
    assertParamSet(keySet, options.paramSetId, path);
    return { keySet, isNew: false, path };
  }

  const now = (options.clock ?? Date.now)();
  const keySet = generateVaultKeySet(options.engine, options.paramSetId, now);
  try {
    const sealed = await sealKeySet(keySet, options.kek.passphrase, options.scrypt, 'the key-encryption key');
    writeBytesAtomicSync(path, sealed, { overwrite: false });
    return { keySet, isNew: true, path };
  } catch (err: unknown) {
    destroyKeySet(keySet);
    // Another process created the key set while we generated ours: theirs wins, open it.
    if (err instanceof VaultError && err.code === VaultErrorCode.CONFLICT) {
      const raced = readBoundedFileSync(path, MAX_KEYSET_FILE_BYTES);
      if (raced === undefined) throw err;
      const opened = await unsealKeySet(raced, options.kek.passphrase, what);
      assertParamSet(opened, options.paramSetId, path);
      return { keySet: opened, isNew: false, path };
    }
    throw err;
  }
}

/**
 * Opens the existing key set and never creates one (backup, inspection). Throws NOT_FOUND when
 * the data directory has no key set, KEYS_LOCKED for a wrong KEK.
 */
export async function openExistingKeySet(dataDir: string, kek: Kek): Promise<VaultKeySet> {
  assertKek(kek);
  const path = keySetPath(dataDir);
  const existing = readBoundedFileSync(path, MAX_KEYSET_FILE_BYTES);
  if (existing === undefined) {
    throw new VaultError(
      VaultErrorCode.NOT_FOUND,
      `no key set at ${path}; is this the Vault's data directory?`,
      {
        reason: 'no key set',
      },
    );
  }
  return unsealKeySet(existing, kek.passphrase, `the sealed key set ${path}`);
}
