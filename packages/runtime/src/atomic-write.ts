import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Mode of every file this writes: services' keys, tokens and state are for their owner only. */
export const PRIVATE_FILE_MODE = 0o600;

/** fsync a directory so that entries created or renamed in it survive a crash. */
export async function fsyncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replace `path` atomically with mode 0600: temp file, fsync, rename, fsync the directory. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
  const handle = await open(temp, 'wx', PRIVATE_FILE_MODE);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err: unknown) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  await rename(temp, path);
  await fsyncDir(dir);
}
