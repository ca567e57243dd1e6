import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix, win32 } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type MemberConfig,
  defaultConfigPath,
  ownerOnlyIcaclsArgs,
  readMemberConfig,
  toJsonPath,
  writeMemberConfig,
} from '@rune/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRune } from './run-rune.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLIENT = fileURLToPath(new URL('../../../packages/client/src/index.ts', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rune-config-paths-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sample(name: string): MemberConfig {
  return {
    version: 1,
    vaultUrl: 'https://vault.example.com',
    indexUrl: 'https://index.example.com',
    indexId: 'team',
    token: `rune_${'A'.repeat(43)}`,
    publicKeyHash: 'ab'.repeat(32),
    vaultKeyId: 'cd'.repeat(16),
    name,
  };
}

describe('config paths on POSIX and Windows', () => {
  it('builds %USERPROFILE%\\.config\\rune\\vault-config.json with path.win32 and writes it to JSON with forward slashes', () => {
    const path = defaultConfigPath({
      env: { USERPROFILE: 'C:\\Users\\Ada Lovelace' },
      platform: 'win32',
      homedir: 'x',
    });
    expect(path).toBe(win32.join('C:\\Users\\Ada Lovelace', '.config', 'rune', 'vault-config.json'));
    expect(toJsonPath(path)).toBe('C:/Users/Ada Lovelace/.config/rune/vault-config.json');
    expect(JSON.stringify({ configPath: toJsonPath(path) })).not.toContain('\\\\');
  });

  it('honours RUNE_CONFIG, then XDG_CONFIG_HOME, then ~/.config on POSIX', () => {
    const home = '/home/ada';
    expect(
      defaultConfigPath({ env: { RUNE_CONFIG: '/srv/me.json' }, platform: 'linux', homedir: home }),
    ).toBe('/srv/me.json');
    expect(defaultConfigPath({ env: { XDG_CONFIG_HOME: '/cfg' }, platform: 'linux', homedir: home })).toBe(
      posix.join('/cfg', 'rune', 'vault-config.json'),
    );
    expect(defaultConfigPath({ env: {}, platform: 'darwin', homedir: home })).toBe(
      '/home/ada/.config/rune/vault-config.json',
    );
    expect(toJsonPath('/home/ada/.config/rune/vault-config.json')).toBe(
      '/home/ada/.config/rune/vault-config.json',
    );
  });

  it('narrows the ACL to the owner with icacls on win32 (the mode-0600 equivalent)', async () => {
    const calls: string[] = [];
    const path = join(dir, 'win', 'vault-config.json');
    await writeMemberConfig(path, sample('win'), {
      platform: 'win32',
      restrictToOwner: (p) => {
        calls.push(p);
        return Promise.resolve();
      },
    });
    // Narrowed on the temp file beside it, before the rename makes it the config.
    expect(calls).toHaveLength(1);
    expect(dirname(calls[0] ?? '')).toBe(dirname(path));
    expect(await readMemberConfig(path)).toMatchObject({ name: 'win' });
    expect(ownerOnlyIcaclsArgs('C:\\Users\\Ada\\.config\\rune\\vault-config.json', 'Ada')).toEqual([
      'C:\\Users\\Ada\\.config\\rune\\vault-config.json',
      '/inheritance:r',
      '/grant:r',
      'Ada:F',
    ]);
  });

  it('fails the write with CONFIG_WRITE_FAILED when the ACL cannot be set', async () => {
    const path = join(dir, 'win-fail', 'vault-config.json');
    await expect(
      writeMemberConfig(path, sample('x'), {
        platform: 'win32',
        restrictToOwner: () => Promise.reject(new Error('denied')),
      }),
    ).rejects.toMatchObject({ code: 'CONFIG_WRITE_FAILED' });
  });
});

describe('config writes are atomic', () => {
  it.runIf(process.platform !== 'win32')(
    'a writer killed with SIGKILL mid-loop leaves a whole config, mode 0600, and readers never see a torn one',
    async () => {
      const path = join(dir, 'atomic', 'vault-config.json');
      await writeMemberConfig(path, sample('first'));
      const script = join(dir, 'writer.mts');
      await writeFile(
        script,
        `import { writeMemberConfig } from ${JSON.stringify(CLIENT)};
const base = ${JSON.stringify(sample('x'))};
for (let i = 0; ; i++) {
  await writeMemberConfig(${JSON.stringify(path)}, { ...base, name: 'writer-' + i });
  if (i === 5) process.stdout.write('going\\n');
}
`,
      );
      // One process (tsx as a loader, not its CLI, which would fork): SIGKILL hits the writer itself.
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => {
          resolve();
        });
        child.once('exit', (code) => {
          reject(new Error(`writer exited early (${String(code)})`));
        });
      });
      const names = new Set<string>();
      for (let i = 0; i < 200; i++) names.add((await readMemberConfig(path)).name ?? '');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      child.stdout.destroy();
      const last = await readMemberConfig(path);
      expect(last.name).toMatch(/^writer-\d+$/);
      expect(names.size).toBeGreaterThan(1);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      // At most the one temp file of the write in flight remains, never a half-written config.
      expect(
        (await readdir(join(dir, 'atomic'))).filter((f) => f !== 'vault-config.json').length,
      ).toBeLessThanOrEqual(1);
    },
  );
});

describe('a corrupt config', () => {
  it('is named with its path and the fix by rune status (exit 1) and rune recall', async () => {
    const path = join(dir, 'corrupt', 'vault-config.json');
    await writeMemberConfig(path, sample('soon-corrupt'));
    await writeFile(path, '{"version": 1, "vaultUrl": ');
    const env = { PATH: process.env.PATH, HOME: dir, RUNE_CONFIG: path, NO_COLOR: '1' };
    const status = await runRune(['status'], { env });
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`member config ${path} is unusable: it is not valid JSON`);
    expect(status.stdout).toContain('[CONFIG_CORRUPT]');
    expect(status.stdout).toContain(`fix: fix or remove ${path}`);
    const recall = await runRune(['recall', 'anything'], { env });
    expect(recall.code).toBe(1);
    expect(recall.stderr).toContain(path);
    expect(recall.stderr).toContain('[CONFIG_CORRUPT]');
    expect(recall.stderr).toMatch(/hint: .*rune configure/);
  });
});
