import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { errnoCode, OWNER_ONLY_FILE_MODE } from '../atomic-file.js';
import { VaultError, VaultErrorCode } from '../errors.js';

/** Owner read/write only. The file is encrypted, but nobody else has a reason to read it. */
export const KEYSET_FILE_MODE = OWNER_ONLY_FILE_MODE;

/**
 * Reads a whole file of at most `maxBytes`, or returns undefined if it does not exist.
 * Oversized files are KEYSET_CORRUPT (nothing this large was ever written by the Vault).
 */
export function readBoundedFileSync(path: string, maxBytes: number): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err: unknown) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw new VaultError(VaultErrorCode.STORAGE_FAILED, `could not read ${path}: ${String(err)}`, {
      cause: err,
    });
  }
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) {
      throw new VaultError(
        VaultErrorCode.KEYSET_CORRUPT,
        `${path} is ${size} bytes, more than the ${maxBytes} a key set can take; refusing to read it`,
        { reason: 'key set file oversized' },
      );
    }
    const out = new Uint8Array(size);
    let offset = 0;
    while (offset < size) {
      const n = readSync(fd, out, offset, size - offset, null);
      if (n === 0) break;
      offset += n;
    }
    return offset === size ? out : out.subarray(0, offset);
  } catch (err: unknown) {
    if (err instanceof VaultError) throw err;
    throw new VaultError(VaultErrorCode.STORAGE_FAILED, `could not read ${path}: ${String(err)}`, {
      cause: err,
    });
  } finally {
    closeSync(fd);
  }
}
