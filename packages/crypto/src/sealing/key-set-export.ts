import { createCipheriv, createDecipheriv, randomFillSync, scrypt } from 'node:crypto';

import { CryptoError } from '../errors.js';
import { MAX_PASSPHRASE_CHARS, assertStrongPassphrase } from './passphrase-policy.js';

/**
 * Passphrase-encrypted export of a key set (named opaque byte strings: the serialised secret key,
 * the team metadata secret, …) for backup and restore. Format, version 1 (integers big-endian):
 *
 *   [0 .. 8)    magic "RUNEKEYS"
 *   [8]         format version (0x01)
 *   [9]         KDF id (0x01 = scrypt)
 *   [10]        scrypt log2 N
 *   [11]        scrypt r
 *   [12]        scrypt p
 *   [13 .. 29)  16-byte random salt
 *   [29 .. 41)  12-byte random AES-GCM nonce
 *   [41 .. n-16) AES-256-GCM ciphertext of the entries
 *   [n-16 .. n) 16-byte GCM tag
 *
 * Key = scrypt(NFC(passphrase) as UTF-8, salt, N, r, p, 32 bytes). AAD = bytes [0, 41), the whole
 * header, so any change to the recorded KDF cost, salt or nonce fails authentication.
 *
 * Entries plaintext: u16 count, then per entry (names strictly ascending, so the encoding is
 * canonical): u8 name length ‖ ASCII name ‖ u32 value length ‖ value.
 *
 * SECURITY INVARIANT: importKeySet validates every header field, KDF cost included, BEFORE running
 * the KDF, so a hostile blob can neither weaken the derivation below the floor nor make the import
 * burn unbounded memory or CPU. Both functions are async: scrypt runs on the libuv pool, so a Vault
 * restoring a backup does not block its event loop.
 */

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly log2N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelism. */
  readonly p: number;
}

export interface ExportKeySetOptions {
  /** scrypt cost; each field defaults to DEFAULT_SCRYPT_PARAMS and must lie within the accepted bounds. */
  readonly scrypt?: Partial<ScryptParams>;
}

export const KEY_SET_MAGIC: Uint8Array = new TextEncoder().encode('RUNEKEYS');
export const KEY_SET_FORMAT_VERSION = 1;
export const KDF_ID_SCRYPT = 1;
/** Defaults: N = 2^17, r = 8, p = 1 (128 MiB, a few hundred ms). */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = Object.freeze({ log2N: 17, r: 8, p: 1 });
/** Floor, for both export and import: N ≥ 2^14 (16 MiB with r = 8), r ≥ 8, p ≥ 1. Tests use exactly this. */
export const MIN_SCRYPT_PARAMS: ScryptParams = Object.freeze({ log2N: 14, r: 8, p: 1 });
/** Per-field ceiling; the memory and work ceilings below bind first. */
export const MAX_SCRYPT_PARAMS: ScryptParams = Object.freeze({ log2N: 20, r: 32, p: 16 });
/** Ceiling on scrypt memory, 128·N·r bytes: 256 MiB (2× the default). */
export const MAX_SCRYPT_MEMORY_BYTES = 256 * 1024 * 1024;
/** Ceiling on scrypt work N·r·p: 2^22 (4× the default). */
export const MAX_SCRYPT_WORK = 2 ** 22;

export const MAX_KEY_SET_ENTRIES = 256;
export const MAX_KEY_SET_ENTRY_BYTES = 4 * 1024 * 1024;
/** Ceiling on the serialised entries (the plaintext). */
export const MAX_KEY_SET_PAYLOAD_BYTES = 16 * 1024 * 1024;
export const KEY_SET_NAME_PATTERN = /^[a-z0-9._-]{1,64}$/;

const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const HEADER_BYTES = KEY_SET_MAGIC.length + 5 + SALT_BYTES + NONCE_BYTES;
const MIN_PAYLOAD_BYTES = 2;
const MIN_BLOB_BYTES = HEADER_BYTES + MIN_PAYLOAD_BYTES + TAG_BYTES;
const MAX_BLOB_BYTES = HEADER_BYTES + MAX_KEY_SET_PAYLOAD_BYTES + TAG_BYTES;

/** Throws MALFORMED_INPUT unless the parameters lie within [floor, ceiling]. */
export function assertScryptParams(params: ScryptParams): void {
  const { log2N, r, p } = params;
  const fields: readonly (readonly [string, number, number, number])[] = [
    ['log2 N', log2N, MIN_SCRYPT_PARAMS.log2N, MAX_SCRYPT_PARAMS.log2N],
    ['r', r, MIN_SCRYPT_PARAMS.r, MAX_SCRYPT_PARAMS.r],
    ['p', p, MIN_SCRYPT_PARAMS.p, MAX_SCRYPT_PARAMS.p],
  ];
  for (const [name, value, min, max] of fields) {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new CryptoError(
        'MALFORMED_INPUT',
        `scrypt ${name} = ${value} is outside the accepted range [${min}, ${max}]`,
      );
    }
  }
  const n = 2 ** log2N;
  if (128 * n * r > MAX_SCRYPT_MEMORY_BYTES) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `scrypt memory 128·N·r = ${128 * n * r} bytes exceeds the ceiling of ${MAX_SCRYPT_MEMORY_BYTES}`,
    );
  }
  if (n * r * p > MAX_SCRYPT_WORK) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `scrypt work N·r·p = ${n * r * p} exceeds the ceiling of ${MAX_SCRYPT_WORK}`,
    );
  }
}

function entriesOf(
  entries: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>,
): [string, Uint8Array][] {
  const list: [string, unknown][] =
    entries instanceof Map ? [...(entries as ReadonlyMap<string, unknown>)] : Object.entries(entries);
  const out: [string, Uint8Array][] = [];
  for (const [name, value] of list) {
    if (typeof name !== 'string' || !KEY_SET_NAME_PATTERN.test(name)) {
      throw new CryptoError(
        'MALFORMED_INPUT',
        `key-set entry name ${JSON.stringify(name)} is invalid: use 1 to 64 characters from a-z 0-9 . _ -`,
      );
    }
    if (!(value instanceof Uint8Array)) {
      throw new CryptoError('MALFORMED_INPUT', `key-set entry "${name}" must be a Uint8Array`);
    }
    if (value.length > MAX_KEY_SET_ENTRY_BYTES) {
      throw new CryptoError(
        'MALFORMED_INPUT',
        `key-set entry "${name}" is ${value.length} bytes; at most ${MAX_KEY_SET_ENTRY_BYTES} are allowed`,
      );
    }
    out.push([name, value]);
  }
  if (out.length === 0 || out.length > MAX_KEY_SET_ENTRIES) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `a key set holds 1 to ${MAX_KEY_SET_ENTRIES} entries, got ${out.length}`,
    );
  }
  // Names are ASCII, so code-unit order is byte order.
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function serialiseEntries(entries: readonly [string, Uint8Array][]): Uint8Array {
  let size = 2;
  for (const [name, value] of entries) size += 1 + name.length + 4 + value.length;
  if (size > MAX_KEY_SET_PAYLOAD_BYTES) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `the key set serialises to ${size} bytes; at most ${MAX_KEY_SET_PAYLOAD_BYTES} are allowed`,
    );
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint16(0, entries.length);
  let pos = 2;
  for (const [name, value] of entries) {
    out[pos++] = name.length;
    for (let i = 0; i < name.length; i++) out[pos++] = name.charCodeAt(i);
    view.setUint32(pos, value.length);
    pos += 4;
    out.set(value, pos);
    pos += value.length;
  }
  return out;
}

function parseEntries(payload: Uint8Array): Map<string, Uint8Array> {
  const bad = (why: string): CryptoError =>
    new CryptoError('MALFORMED_INPUT', `key-set export authenticated but its entries are malformed: ${why}`);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (payload.length < 2) throw bad('no entry count');
  const count = view.getUint16(0);
  if (count === 0 || count > MAX_KEY_SET_ENTRIES) throw bad(`entry count ${count}`);
  const out = new Map<string, Uint8Array>();
  let pos = 2;
  let previous = '';
  for (let k = 0; k < count; k++) {
    const nameLength = payload[pos];
    if (nameLength === undefined || pos + 1 + nameLength + 4 > payload.length) throw bad('truncated entry');
    pos += 1;
    const name = String.fromCharCode(...payload.subarray(pos, pos + nameLength));
    pos += nameLength;
    if (!KEY_SET_NAME_PATTERN.test(name)) throw bad('invalid entry name');
    if (k > 0 && name <= previous) throw bad('entry names not strictly ascending');
    const length = view.getUint32(pos);
    pos += 4;
    if (length > MAX_KEY_SET_ENTRY_BYTES || pos + length > payload.length) throw bad('truncated entry value');
    out.set(name, payload.slice(pos, pos + length));
    pos += length;
    previous = name;
  }
  if (pos !== payload.length) throw bad('trailing bytes after the last entry');
  return out;
}

function passphraseBytes(passphrase: string): Uint8Array {
  // NFC so the same passphrase typed on systems that compose differently derives the same key.
  return new TextEncoder().encode(passphrase.normalize('NFC'));
}

function deriveKey(passphrase: Uint8Array, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  const n = 2 ** params.log2N;
  // maxmem: scrypt's V array (128·N·r) plus its B array (128·r·p) plus slack.
  const maxmem = 128 * n * params.r + 128 * params.r * params.p + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(passphrase, salt, KEY_BYTES, { N: n, r: params.r, p: params.p, maxmem }, (err, key) => {
      if (err === null) resolve(key);
      else reject(err);
    });
  });
}

/**
 * Encrypts the entries under a key derived from the passphrase. Throws WEAK_PASSPHRASE when the
 * passphrase fails the policy (passphrase-policy.ts), MALFORMED_INPUT on a bad entry name, count or
 * size, or scrypt parameters outside the accepted bounds.
 */
export async function exportKeySet(
  entries: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>,
  passphrase: string,
  options: ExportKeySetOptions = {},
): Promise<Uint8Array> {
  assertStrongPassphrase(passphrase);
  const params: ScryptParams = { ...DEFAULT_SCRYPT_PARAMS, ...options.scrypt };
  assertScryptParams(params);
  const payload = serialiseEntries(entriesOf(entries));

  const header = new Uint8Array(HEADER_BYTES);
  header.set(KEY_SET_MAGIC, 0);
  let pos = KEY_SET_MAGIC.length;
  header[pos++] = KEY_SET_FORMAT_VERSION;
  header[pos++] = KDF_ID_SCRYPT;
  header[pos++] = params.log2N;
  header[pos++] = params.r;
  header[pos++] = params.p;
  const salt = header.subarray(pos, pos + SALT_BYTES);
  randomFillSync(salt);
  pos += SALT_BYTES;
  const nonce = header.subarray(pos, pos + NONCE_BYTES);
  randomFillSync(nonce);

  const key = await deriveKey(passphraseBytes(passphrase), salt, params);
  try {
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(header);
    const body = cipher.update(payload);
    const tail = cipher.final();
    const tag = cipher.getAuthTag();
    const out = new Uint8Array(HEADER_BYTES + body.length + tail.length + TAG_BYTES);
    out.set(header, 0);
    out.set(body, HEADER_BYTES);
    out.set(tail, HEADER_BYTES + body.length);
    out.set(tag, out.length - TAG_BYTES);
    return out;
  } finally {
    key.fill(0);
    payload.fill(0);
  }
}

/**
 * Decrypts a key-set export. Throws MALFORMED_INPUT on a blob that is not a version-1 Rune key-set
 * export, is truncated or oversized, or records KDF parameters outside the accepted bounds (checked
 * before the KDF runs); DECRYPTION_FAILED on a wrong passphrase or any modification. The passphrase
 * policy is NOT applied here, so a backup stays restorable if the policy tightens later.
 */
export async function importKeySet(blob: Uint8Array, passphrase: string): Promise<Map<string, Uint8Array>> {
  if (!(blob instanceof Uint8Array)) {
    throw new CryptoError('MALFORMED_INPUT', 'a key-set export must be a Uint8Array');
  }
  if (blob.length < MIN_BLOB_BYTES) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `key-set export is ${blob.length} bytes, shorter than the ${MIN_BLOB_BYTES}-byte minimum: it is truncated`,
    );
  }
  if (blob.length > MAX_BLOB_BYTES) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `key-set export is ${blob.length} bytes; at most ${MAX_BLOB_BYTES} are accepted`,
    );
  }
  if (!KEY_SET_MAGIC.every((b, i) => blob[i] === b)) {
    throw new CryptoError('MALFORMED_INPUT', 'not a Rune key-set export (bad magic bytes)');
  }
  let pos = KEY_SET_MAGIC.length;
  const version = blob[pos++] ?? 0;
  if (version !== KEY_SET_FORMAT_VERSION) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `key-set export has unknown format version ${version}; this build reads version ${KEY_SET_FORMAT_VERSION}`,
    );
  }
  const kdf = blob[pos++] ?? 0;
  if (kdf !== KDF_ID_SCRYPT) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `key-set export uses unknown KDF id ${kdf}; this build knows scrypt (1)`,
    );
  }
  const params: ScryptParams = { log2N: blob[pos++] ?? 0, r: blob[pos++] ?? 0, p: blob[pos++] ?? 0 };
  // SECURITY INVARIANT: bounds first, KDF second (see the module comment).
  assertScryptParams(params);
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new CryptoError('MALFORMED_INPUT', 'the passphrase must be a non-empty string');
  }
  if (Array.from(passphrase).length > MAX_PASSPHRASE_CHARS) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `the passphrase is longer than ${MAX_PASSPHRASE_CHARS} characters`,
    );
  }
  const salt = blob.subarray(pos, pos + SALT_BYTES);
  pos += SALT_BYTES;
  const nonce = blob.subarray(pos, pos + NONCE_BYTES);
  const header = blob.subarray(0, HEADER_BYTES);
  const ciphertext = blob.subarray(HEADER_BYTES, blob.length - TAG_BYTES);
  const tag = blob.subarray(blob.length - TAG_BYTES);

  const key = await deriveKey(passphraseBytes(passphrase), salt, params);
  let payload: Uint8Array | undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(header);
    decipher.setAuthTag(tag);
    const body = decipher.update(ciphertext);
    try {
      const tail = decipher.final();
      // A fresh buffer (not a pooled Buffer) so zeroing it below really erases the plaintext.
      payload = new Uint8Array(body.length + tail.length);
      payload.set(body, 0);
      payload.set(tail, body.length);
    } catch (err: unknown) {
      throw new CryptoError(
        'DECRYPTION_FAILED',
        'key-set export failed authentication: wrong passphrase, or the file was modified or corrupted',
        { cause: err },
      );
    } finally {
      body.fill(0);
    }
    // Only authenticated bytes reach the parser.
    return parseEntries(payload);
  } finally {
    key.fill(0);
    payload?.fill(0);
  }
}
