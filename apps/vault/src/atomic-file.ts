import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { VaultError, VaultErrorCode } from './errors.js';

/** Owner read/write only: every file the Vault writes holds secrets or security state. */
export const OWNER_ONLY_FILE_MODE = 0o600;
export const DATA_DIR_MODE = 0o700;

export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return undefined;
}

function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err: unknown) {
    // Some platforms cannot fsync a directory; the rename itself is still atomic.
    const code = errnoCode(err);
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Best-effort cleanup on a path that already failed; the original error is the one to report. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // ENOTDIR and the like: nothing was created there.
  }
}

/**
 * Crash-safe write: a temp file in the same directory, fsynced, then renamed over the target (or,
 * with `overwrite: false`, linked with link(2), which fails if the target exists — so two Vaults
 * starting at once can never both install a key set and one silently lose its keys), then the
 * directory is fsynced. A crash leaves the old file or the new one, never a mix.
 * Throws CONFLICT if the target exists and `overwrite` is false, STORAGE_FAILED otherwise.
 */
export function writeBytesAtomicSync(
  path: string,
  bytes: Uint8Array,
  options: { readonly overwrite: boolean; readonly mode?: number },
): void {
  const mode = options.mode ?? OWNER_ONLY_FILE_MODE;
  const dir = dirname(path);
  const tmp = join(dir, `.${Date.now().toString(36)}-${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
    fd = openSync(tmp, 'wx', mode);
    // open()'s mode is filtered by the umask; set it explicitly so it is exactly `mode`.
    fchmodSync(fd, mode);
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (options.overwrite) {
      renameSync(tmp, path);
    } else {
      linkSync(tmp, path);
      rmSync(tmp, { force: true });
    }
    fsyncDirectory(dir);
  } catch (err: unknown) {
    if (fd !== undefined) closeSync(fd);
    removeQuietly(tmp);
    if (errnoCode(err) === 'EEXIST') {
      throw new VaultError(VaultErrorCode.CONFLICT, `${path} already exists; refusing to replace it`, {
        reason: 'file exists',
        cause: err,
      });
    }
    throw new VaultError(VaultErrorCode.STORAGE_FAILED, `could not write ${path}: ${String(err)}`, {
      cause: err,
    });
  }
}
