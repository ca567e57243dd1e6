import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirLockedError, LOCK_FILE_NAME, acquireDataDirLock } from '../src/index.js';

const tempDir = () => mkdtemp(join(tmpdir(), 'rune-lock-'));

/** A real process id that is certainly gone: a child that already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid ?? 999_999;
}

describe('acquireDataDirLock', () => {
  it('writes our pid, and releasing removes the lock', async () => {
    const dir = await tempDir();
    const lock = await acquireDataDirLock(dir);
    expect((await readFile(join(dir, LOCK_FILE_NAME), 'utf8')).trim()).toBe(String(process.pid));
    await lock.release();
    await expect(readFile(join(dir, LOCK_FILE_NAME))).rejects.toThrow();
  });

  it('refuses a directory held by a live process, naming it and the fix', async () => {
    const dir = await tempDir();
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await writeFile(join(dir, LOCK_FILE_NAME), `${holder.pid ?? 0}\n`);
      const err = await acquireDataDirLock(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataDirLockedError);
      expect((err as DataDirLockedError).message).toContain(String(holder.pid));
      expect((err as DataDirLockedError).hint).toContain(LOCK_FILE_NAME);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('takes over the lock of a process that died (kill -9 leaves it behind)', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK_FILE_NAME), `${await deadPid()}\n`);
    const lock = await acquireDataDirLock(dir);
    expect((await readFile(lock.path, 'utf8')).trim()).toBe(String(process.pid));
    await lock.release();
  });

  it('takes over a torn lock file, and does not release a lock it no longer holds', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, LOCK_FILE_NAME), '');
    const lock = await acquireDataDirLock(dir);
    await writeFile(lock.path, '1\n');
    await lock.release();
    expect((await readFile(lock.path, 'utf8')).trim()).toBe('1');
  });
});
