import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { VaultError, VaultErrorCode } from '../errors.js';
import type { Kek } from './key-set.js';

/** A KEK passphrase file is a line of text; anything larger is a wrong path, not a passphrase. */
export const MAX_KEK_FILE_BYTES = 4096;
/** Group and other permission bits: any of them set on the KEK file is refused. */
const GROUP_OTHER_BITS = 0o077;

export interface KekSources {
  /** Path of a file holding the passphrase (e.g. a mounted secret). Must be mode 0600 or 0400. */
  readonly passphraseFile?: string | undefined;
  /** Name of an environment variable holding the passphrase. */
  readonly envVar?: string | undefined;
  /** The environment, passed in: nothing in the Vault core reads process.env. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

function kekInvalid(message: string, reason: string, cause?: unknown): VaultError {
  return new VaultError(VaultErrorCode.KEK_INVALID, message, {
    reason,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** One trailing newline is what `echo`/editors add; any other whitespace belongs to the passphrase. */
function stripTrailingNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

function readKekFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err: unknown) {
    throw kekInvalid(`cannot open the KEK file ${path}: ${String(err)}`, 'KEK file unreadable', err);
  }
  const buffer = new Uint8Array(MAX_KEK_FILE_BYTES + 1);
  try {
    // fstat on the open descriptor, so the checked file is the file read (no swap in between).
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw kekInvalid(`the KEK file ${path} is not a regular file`, 'KEK file not a file');
    // SECURITY: a KEK others can read unseals the secret key for them. POSIX modes only.
    if (process.platform !== 'win32' && (stat.mode & GROUP_OTHER_BITS) !== 0) {
      throw kekInvalid(
        `the KEK file ${path} is accessible by group or others (mode ${(stat.mode & 0o777).toString(8)}); ` +
          `run "chmod 600 ${path}" (for a Kubernetes secret, set defaultMode: 0400)`,
        'KEK file permissions too open',
      );
    }
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > MAX_KEK_FILE_BYTES) {
      throw kekInvalid(
        `the KEK file ${path} is larger than ${MAX_KEK_FILE_BYTES} bytes; it should hold one passphrase`,
        'KEK file oversized',
      );
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, length));
    } catch (err: unknown) {
      throw kekInvalid(`the KEK file ${path} is not UTF-8 text`, 'KEK file not UTF-8', err);
    }
    return stripTrailingNewline(text);
  } finally {
    buffer.fill(0);
    closeSync(fd);
  }
}

/**
 * Reads the key-encryption key from exactly one source: a passphrase file or an environment
 * variable. Throws KEK_INVALID (no source, both, unreadable, empty, or a file others can access).
 * Never echoes the passphrase. JS strings cannot be zeroed: keep the returned KEK short-lived,
 * and prefer the file (an environment variable is inherited by child processes).
 */
export function kekFromSources(sources: KekSources): Kek {
  const { passphraseFile, envVar } = sources;
  const hasFile = passphraseFile !== undefined && passphraseFile !== '';
  const hasEnv = envVar !== undefined && envVar !== '';
  if (hasFile === hasEnv) {
    throw kekInvalid(
      hasFile
        ? 'the KEK is configured both as a file and as an environment variable; configure exactly one'
        : 'no KEK configured: give a passphrase file or an environment variable',
      hasFile ? 'two KEK sources' : 'no KEK source',
    );
  }
  let passphrase: string;
  let source: string;
  if (passphraseFile !== undefined && hasFile) {
    passphrase = readKekFile(passphraseFile);
    source = `the KEK file ${passphraseFile}`;
  } else {
    const name = envVar ?? '';
    passphrase = sources.env[name] ?? '';
    source = `the environment variable ${name}`;
  }
  if (passphrase.length === 0) throw kekInvalid(`${source} is empty or unset`, 'empty KEK');
  return Object.freeze({ passphrase });
}
