import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, serializePublicKey } from '@rune/crypto';
import { openExistingKeySet, openOrCreateKeySet } from '@rune/vault';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRune } from './run-rune.js';

const STRONG = 'correct horse battery staple orbit quantum lantern';

function rune(args: readonly string[]) {
  return runRune(args, { env: { PATH: process.env.PATH, HOME: tmpdir() } });
}

async function secretFile(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${text}\n`, { mode: 0o600 });
  return path;
}

describe('rune vault backup / restore', () => {
  let work: string;
  let vaultDir: string;
  let kekFile: string;
  let goodPass: string;
  let publicKey: Uint8Array;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'rune-backup-'));
    vaultDir = join(work, 'vault');
    kekFile = await secretFile(work, 'kek', 'kek-passphrase-river-mountain-copper-violet');
    goodPass = await secretFile(work, 'pass', STRONG);
    const opened = await openOrCreateKeySet({
      dataDir: vaultDir,
      kek: { passphrase: 'kek-passphrase-river-mountain-copper-violet' },
      paramSetId: 1,
      engine: createEngine(),
    });
    publicKey = serializePublicKey(opened.keySet.publicKey);
  });

  it('refuses a weak backup passphrase and writes nothing', async () => {
    const weak = await secretFile(work, 'weak', 'password1');
    const out = join(work, 'weak.backup');
    const res = await rune([
      'vault',
      'backup',
      '--data-dir',
      vaultDir,
      '--kek-file',
      kekFile,
      '--out',
      out,
      '--passphrase-file',
      weak,
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('WEAK_PASSPHRASE');
    await expect(stat(out)).rejects.toThrow();
  });

  it('backs up (mode 0600, never overwriting) and restores the same keys under a new KEK', async () => {
    const out = join(work, 'keys.backup');
    const args = [
      'vault',
      'backup',
      '--data-dir',
      vaultDir,
      '--kek-file',
      kekFile,
      '--out',
      out,
      '--passphrase-file',
      goodPass,
    ];
    expect((await rune(args)).code).toBe(0);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const again = await rune(args);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('BACKUP_EXISTS');

    const target = join(work, 'restored');
    const newKek = await secretFile(work, 'kek2', 'second-kek-harbor-glacier-pepper-tunnel');
    const restore = [
      'vault',
      'restore',
      '--data-dir',
      target,
      '--kek-file',
      newKek,
      '--from',
      out,
      '--passphrase-file',
      goodPass,
    ];
    expect((await rune(restore)).code).toBe(0);
    const restored = await openExistingKeySet(target, {
      passphrase: 'second-kek-harbor-glacier-pepper-tunnel',
    });
    expect(serializePublicKey(restored.publicKey)).toEqual(publicKey);

    const overwrite = await rune(restore);
    expect(overwrite.code).toBe(1);
    expect(overwrite.stderr).toContain('CONFLICT');
  });

  it('refuses a wrong backup passphrase, a flipped bit and a truncated backup', async () => {
    const out = join(work, 'tamper.backup');
    await rune([
      'vault',
      'backup',
      '--data-dir',
      vaultDir,
      '--kek-file',
      kekFile,
      '--out',
      out,
      '--passphrase-file',
      goodPass,
    ]);
    const bytes = await readFile(out);
    const wrongPass = await secretFile(work, 'wrong', 'entirely different passphrase galaxy kettle');
    const flipped = Uint8Array.from(bytes);
    flipped[flipped.length - 40]! ^= 1;
    const flippedFile = join(work, 'flipped.backup');
    await writeFile(flippedFile, flipped);
    const truncatedFile = join(work, 'truncated.backup');
    await writeFile(truncatedFile, bytes.subarray(0, bytes.length - 100));
    const cases: [string, string, RegExp][] = [
      [out, wrongPass, /KEYS_LOCKED/],
      [flippedFile, goodPass, /KEYS_LOCKED|KEYSET_CORRUPT/],
      [truncatedFile, goodPass, /KEYS_LOCKED|KEYSET_CORRUPT/],
    ];
    for (const [i, [from, pass, code]] of cases.entries()) {
      const target = join(work, `bad-${i}`);
      const kek = await secretFile(work, `kek-bad-${i}`, 'third-kek-meadow-falcon-saddle-ember');
      const res = await rune([
        'vault',
        'restore',
        '--data-dir',
        target,
        '--kek-file',
        kek,
        '--from',
        from,
        '--passphrase-file',
        pass,
      ]);
      expect(res.code, from).toBe(1);
      expect(res.stderr, from).toMatch(code);
      await expect(stat(join(target, 'keyset.sealed'))).rejects.toThrow();
    }
  });
});
