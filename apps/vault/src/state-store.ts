import {
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { VaultError, VaultErrorCode } from './errors.js';

/** Owner read/write only: the state file holds token hashes and role policy. */
export const STATE_FILE_MODE = 0o600;
const DATA_DIR_MODE = 0o700;

function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return undefined;
}

/** Some platforms (Windows, some network filesystems) cannot fsync a directory; that is not fatal. */
function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err: unknown) {
    const code = errnoCode(err);
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Crash-safe replace: write a temp file in the same directory, fsync it, rename it over the
 * target, fsync the directory. A crash leaves either the old file or the new one, never a mix.
 * Synchronous on purpose: state changes are rare admin operations, and a synchronous write
 * cannot interleave with another mutation on Node's single thread.
 */
export function writeFileAtomicSync(path: string, data: string, mode: number = STATE_FILE_MODE): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${Date.now().toString(36)}-${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode);
    // open()'s mode is filtered by the umask; set it explicitly so it is exactly `mode`.
    fchmodSync(fd, mode);
    const bytes = Buffer.from(data, 'utf8');
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
    fsyncDirectory(dir);
  } catch (err: unknown) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new VaultError(VaultErrorCode.STORAGE_FAILED, `could not write ${path}: ${String(err)}`, {
      cause: err,
    });
  }
}

/**
 * One JSON document on disk, validated by `parse` on load. A missing file is "no state yet";
 * an unreadable or invalid one is STATE_CORRUPT — never silently replaced by an empty state,
 * which would drop every revocation and let an attacker who can truncate the file reset the team.
 */
export class JsonFileStore<T> {
  readonly path: string;
  readonly #parse: (raw: unknown) => T;

  constructor(path: string, parse: (raw: unknown) => T) {
    this.path = path;
    this.#parse = parse;
    mkdirSync(dirname(path), { recursive: true, mode: DATA_DIR_MODE });
  }

  load(): T | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err: unknown) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw new VaultError(VaultErrorCode.STORAGE_FAILED, `could not read ${this.path}: ${String(err)}`, {
        cause: err,
      });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err: unknown) {
      throw this.#corrupt(`not valid JSON (${err instanceof Error ? err.message : String(err)})`, err);
    }
    try {
      return this.#parse(raw);
    } catch (err: unknown) {
      throw this.#corrupt(err instanceof Error ? err.message : String(err), err);
    }
  }

  save(state: T): void {
    writeFileAtomicSync(this.path, `${JSON.stringify(state, null, 2)}\n`);
  }

  #corrupt(detail: string, cause: unknown): VaultError {
    return new VaultError(
      VaultErrorCode.STATE_CORRUPT,
      `state file ${this.path} is corrupt: ${detail}. Refusing to start; restore it from a backup ` +
        'or move it aside deliberately (every member will then need a new token).',
      { reason: detail, cause },
    );
  }
}
