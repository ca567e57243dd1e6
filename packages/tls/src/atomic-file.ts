import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TlsError } from './errors.js';

/** Private keys: owner read/write only. */
export const KEY_FILE_MODE = 0o600;
/** Certificates are public, but live in the private directory anyway. */
export const CERT_FILE_MODE = 0o644;
export const DIR_MODE = 0o700;

// POSIX permission bits mean little on Windows; there the user profile's ACLs protect the files.
const HAS_POSIX_MODES = process.platform !== 'win32';

function unusable(path: string, err: unknown): TlsError {
  const reason = err instanceof Error ? err.message : String(err);
  return new TlsError(
    'TLS_DIR_UNUSABLE',
    `cannot write ${path} (${reason}); choose a TLS directory this user owns and may write`,
    { cause: err },
  );
}

/** Creates `dir` if needed. SECURITY: it holds the CA key, so it is narrowed to the owner (0700). */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    // mkdir's mode is masked by the umask and ignored for an existing directory.
    if (HAS_POSIX_MODES) await chmod(dir, DIR_MODE);
  } catch (err: unknown) {
    throw unusable(dir, err);
  }
}

/**
 * Replaces `path` so readers see the old bytes or the new, never a torn file: write a temp file
 * beside it with its final mode, fsync, rename over, then fsync the directory (POSIX only).
 */
export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    // SECURITY: the mode is set at creation, so a key is never briefly readable by others.
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (HAS_POSIX_MODES) await chmod(temp, mode); // the umask may have narrowed `open`'s mode
    await rename(temp, path);
    if (HAS_POSIX_MODES) await syncDir(dirname(path));
  } catch (err: unknown) {
    await rm(temp, { force: true });
    throw unusable(path, err);
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The file's text, or undefined when it does not exist; other failures are reported. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    const reason = err instanceof Error ? err.message : String(err);
    throw new TlsError(
      'TLS_FILE_UNREADABLE',
      `cannot read ${path} (${reason}); check that this user owns the TLS directory`,
      { cause: err },
    );
  }
}
