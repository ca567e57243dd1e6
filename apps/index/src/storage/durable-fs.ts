import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from '@rune/runtime';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

// The atomic writer lives in @rune/runtime, shared with the CLI's secret files.
export { fsyncDir, writeFileAtomic } from '@rune/runtime';

export async function ensureDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: DIR_MODE });
}

/** Create an empty file durably (the new directory entry is fsynced too). */
export async function createEmptyFile(path: string): Promise<void> {
  const handle = await open(path, 'wx', FILE_MODE);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsyncDir(dirname(path));
}
