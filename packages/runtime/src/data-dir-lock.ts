import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCK_FILE_NAME = '.rune.lock';

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  readonly code = 'DATA_DIR_LOCKED';
  readonly hint: string;
  constructor(dir: string, pid: number) {
    super(`the data directory ${dir} is in use by process ${pid}`);
    this.hint = `stop that process first; if it is gone, delete ${join(dir, LOCK_FILE_NAME)}`;
  }
}

export interface DataDirLock {
  readonly path: string;
  release(): Promise<void>;
}

/**
 * Takes the directory for this process: two services writing one log or one ledger would corrupt
 * it. A lock left by a process that no longer exists (kill -9, power loss) is taken over, so a
 * crash never needs a manual step to restart.
 */
export async function acquireDataDirLock(dir: string): Promise<DataDirLock> {
  const path = join(dir, LOCK_FILE_NAME);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return { path, release: () => releaseIfOurs(path) };
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await lockHolder(path);
    if (holder !== undefined && holder !== process.pid && isAlive(holder))
      throw new DataDirLockedError(dir, holder);
    // Stale (its process is gone) or unreadable (torn by a crash while being written): remove and retry.
    await rm(path, { force: true });
  }
  throw new DataDirLockedError(dir, (await lockHolder(path)) ?? -1);
}

async function lockHolder(path: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(path, 'utf8')).trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: unknown) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function releaseIfOurs(path: string): Promise<void> {
  if ((await lockHolder(path)) === process.pid) await rm(path, { force: true });
}
