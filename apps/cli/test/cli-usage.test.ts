import { spawn } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNE_BIN, runRune } from './run-rune.js';

/** Runs the real `rune` binary with a clean config location. */
function rune(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000) {
  return runRune(args, {
    env: {
      PATH: process.env.PATH,
      HOME: tmpdir(),
      RUNE_CONFIG: join(tmpdir(), 'rune-no-such-config.json'),
      ...env,
    },
    timeoutMs,
  });
}

describe('rune command line', () => {
  it('prints help (exit 0) and refuses no command or an unknown one with exit 2', async () => {
    const help = await rune(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('vault serve');
    expect((await rune([])).code).toBe(2);
    const unknown = await rune(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });

  it('gives every command its own --help with an example', async () => {
    for (const command of [
      ['vault', 'show-key'],
      ['index', 'show-key'],
      ['vault', 'backup'],
      ['vault', 'restore'],
      ['up'],
      ['vault', 'serve'],
      ['index', 'serve'],
      ['capture'],
      ['recall'],
      ['vault', 'audit', 'verify'],
      ['vault'],
      ['index'],
      ['mcp'],
      ['configure'],
      ['status'],
      ['team'],
      ['team', 'add'],
      ['team', 'list'],
      ['team', 'remove'],
      ['team', 'rotate'],
      ['team', 'invite'],
      ['import'],
      ['export'],
      ['loadtest'],
      ['bench'],
    ]) {
      const out = await rune([...command, '--help']);
      expect(out.code, command.join(' ')).toBe(0);
      expect(out.stdout, command.join(' ')).toMatch(/Usage: rune/);
      expect(out.stdout, command.join(' ')).toContain('Example');
    }
  });

  it('answers usage mistakes with exit 2 and what to change', async () => {
    const noDir = await rune(['up']);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain('--data-dir is required');
    const badPort = await rune(['up', '--data-dir', '/tmp/x', '--vault-port', '99999']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--vault-port must be a port number');
    const noKek = await rune(['vault', 'serve', '--data-dir', '/tmp/x', '--index-key', 'a']);
    expect(noKek.code).toBe(2);
    expect(noKek.stderr).toContain('exactly one of --kek-file, --kek-env or --kek-credential');
    const noInsight = await rune(['capture']);
    expect(noInsight.code).toBe(2);
    const unknownFlag = await rune(['recall', 'q', '--bogus']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain('bogus');
  });

  it('says which config file is missing and how to get one', async () => {
    const out = await rune(['recall', 'anything']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('rune-no-such-config.json');
    expect(out.stderr).toContain('CONFIG_NOT_FOUND');
  });

  it('refuses a local stack off loopback before touching the data directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rune-cli-'));
    const out = await rune([
      'up',
      '--data-dir',
      dir,
      '--plain-http',
      '--host',
      '0.0.0.0',
      '--vault-port',
      '0',
      '--index-port',
      '0',
    ]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--host must be a loopback address');
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a second index on a data directory that a live index holds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rune-cli-'));
    const key = 'A'.repeat(43);
    const args = ['index', 'serve', '--data-dir', dir, '--vault-key', key, '--plain-http', '--port', '0'];
    const first = spawn(process.execPath, [RUNE_BIN, ...args], { env: { PATH: process.env.PATH } });
    try {
      await new Promise<void>((resolve, reject) => {
        first.stdout.on('data', (c: Buffer) => {
          if (c.toString().includes('"service":"index"')) resolve();
        });
        first.on('exit', (code) => {
          reject(new Error(`first index exited with ${String(code)}`));
        });
      });
      const second = await rune(args);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain('DATA_DIR_LOCKED');
      expect(second.stderr).toContain('hint:');
    } finally {
      first.kill('SIGKILL');
    }
  });
});
