import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_KEK_FILE_BYTES, kekFromSources } from '../src/keys/kek.js';
import { caught, expectCode, tempDir } from './helpers.js';

const PASSPHRASE = 'granite-Orbit-lantern-57-mellow-fjord';

async function kekFile(contents: string | Uint8Array, mode = 0o600): Promise<string> {
  const path = join(await tempDir(), 'kek');
  await writeFile(path, contents, { mode });
  await chmod(path, mode);
  return path;
}

describe('kekFromSources', () => {
  it('reads the KEK from a mode-0600 file, dropping one trailing newline', async () => {
    const path = await kekFile(`${PASSPHRASE}\n`);
    expect(kekFromSources({ passphraseFile: path, env: {} }).passphrase).toBe(PASSPHRASE);
    const crlf = await kekFile(`${PASSPHRASE}\r\n`, 0o400);
    expect(kekFromSources({ passphraseFile: crlf, env: {} }).passphrase).toBe(PASSPHRASE);
  });

  it('keeps other whitespace, which belongs to the passphrase', async () => {
    const path = await kekFile(` ${PASSPHRASE} \n\n`);
    expect(kekFromSources({ passphraseFile: path, env: {} }).passphrase).toBe(` ${PASSPHRASE} \n`);
  });

  it('refuses a KEK file readable or writable by group or others', async () => {
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      const path = await kekFile(PASSPHRASE, mode);
      const err = await caught(() => kekFromSources({ passphraseFile: path, env: {} }));
      expectCode(err, 'KEK_INVALID');
      expect(err.message).toContain('chmod 600');
      expect(err.message).not.toContain(PASSPHRASE);
    }
  });

  it('reads the KEK from the named environment variable', () => {
    const kek = kekFromSources({ envVar: 'RUNE_KEK', env: { RUNE_KEK: PASSPHRASE } });
    expect(kek.passphrase).toBe(PASSPHRASE);
  });

  it('requires exactly one source', async () => {
    const path = await kekFile(PASSPHRASE);
    const both = await caught(() =>
      kekFromSources({ passphraseFile: path, envVar: 'RUNE_KEK', env: { RUNE_KEK: PASSPHRASE } }),
    );
    expectCode(both, 'KEK_INVALID');
    expect(both.reason).toBe('two KEK sources');
    const none = await caught(() => kekFromSources({ env: { RUNE_KEK: PASSPHRASE } }));
    expectCode(none, 'KEK_INVALID');
    expect(none.reason).toBe('no KEK source');
  });

  it('refuses an unset or empty environment variable and an empty file', async () => {
    expectCode(await caught(() => kekFromSources({ envVar: 'RUNE_KEK', env: {} })), 'KEK_INVALID');
    expectCode(
      await caught(() => kekFromSources({ envVar: 'RUNE_KEK', env: { RUNE_KEK: '' } })),
      'KEK_INVALID',
    );
    const empty = await kekFile('\n');
    expectCode(await caught(() => kekFromSources({ passphraseFile: empty, env: {} })), 'KEK_INVALID');
  });

  it('refuses a missing file, a directory, an oversized file and a file that is not UTF-8', async () => {
    const dir = await tempDir();
    expectCode(
      await caught(() => kekFromSources({ passphraseFile: join(dir, 'nope'), env: {} })),
      'KEK_INVALID',
    );
    const sub = join(dir, 'sub');
    await mkdir(sub, { mode: 0o700 });
    expectCode(await caught(() => kekFromSources({ passphraseFile: sub, env: {} })), 'KEK_INVALID');
    const big = await kekFile('x'.repeat(MAX_KEK_FILE_BYTES + 1));
    expectCode(await caught(() => kekFromSources({ passphraseFile: big, env: {} })), 'KEK_INVALID');
    const binary = await kekFile(new Uint8Array([0xff, 0xfe, 0x41]));
    expectCode(await caught(() => kekFromSources({ passphraseFile: binary, env: {} })), 'KEK_INVALID');
  });
});
