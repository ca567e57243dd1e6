import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { VaultError, type VaultErrorCode } from '../src/errors.js';

const dirs: string[] = [];

/** A fresh directory under the OS temp dir, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rune-vault-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A clock tests move by hand. */
export function fakeClock(startMs = Date.UTC(2025, 0, 1)): {
  now: () => number;
  advance: (ms: number) => void;
} {
  let t = startMs;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** Runs `fn` and returns the VaultError it throws (or rejects with), failing if it does not. */
export async function caught(fn: () => unknown): Promise<VaultError> {
  try {
    await fn();
  } catch (err: unknown) {
    if (err instanceof VaultError) return err;
    throw err;
  }
  throw new Error('expected a VaultError');
}

export function expectCode(err: VaultError, code: VaultErrorCode): void {
  if (err.code !== code) throw new Error(`expected ${code}, got ${err.code}: ${err.message}`);
}
