import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MemberConfig, writeMemberConfig } from '@rune/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/main.js';
import { fail, ok } from '../src/onboarding/checks.js';
import { renderChecks } from '../src/ui/checks-view.js';
import { startProgress } from '../src/ui/progress.js';
import { isColourEnabled, palette } from '../src/ui/tty.js';
import { runRune } from './run-rune.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rune-status-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  return typeof address === 'object' && address !== null ? address.port : 0;
}

function fakeStream(isTTY: boolean) {
  const written: string[] = [];
  return { isTTY, columns: 80, write: (s: string) => written.push(s) > 0, written };
}

describe('rune status', () => {
  it('exits 1 with CONFIG_NOT_FOUND and the fix when there is no config (--json)', async () => {
    const out = await runRune(['status', '--json'], { env: { PATH: process.env.PATH, HOME: dir } });
    expect(out.code).toBe(1);
    const report = JSON.parse(out.stdout) as { ok: boolean; configPath: string; checks: unknown[] };
    expect(report.ok).toBe(false);
    expect(report.configPath).toBe(join(dir, '.config', 'rune', 'vault-config.json'));
    expect(report.checks).toEqual([
      expect.objectContaining({
        id: 'config.found',
        status: 'fail',
        code: 'CONFIG_NOT_FOUND',
        fix: expect.stringContaining('rune configure') as unknown,
      }),
    ]);
  });

  it.runIf(process.platform !== 'win32')(
    'flags a config other users can read, and an unreachable Vault, each with its fix, without colour off a TTY',
    async () => {
      const port = await closedPort();
      const path = join(dir, 'open', 'vault-config.json');
      const config: MemberConfig = {
        version: 1,
        vaultUrl: `http://127.0.0.1:${port}`,
        indexUrl: `http://127.0.0.1:${port}`,
        indexId: 'team',
        token: `rune_${'A'.repeat(43)}`,
        publicKeyHash: 'ab'.repeat(32),
        vaultKeyId: 'cd'.repeat(16),
      };
      await writeMemberConfig(path, config);
      await chmod(path, 0o644);
      const out = await runRune(['status'], {
        env: { PATH: process.env.PATH, HOME: dir, RUNE_CONFIG: path },
      });
      expect(out.code).toBe(1);
      expect(out.stdout).toContain('[CONFIG_MODE_OPEN]');
      expect(out.stdout).toContain(`fix: chmod 600 '${path}'`);
      expect(out.stdout).toContain('[TCP_REFUSED]');
      expect(out.stdout).toContain('problems found');
      expect(out.stdout).not.toContain('\u001b[');
    },
  );
});

describe('terminal output', () => {
  it('uses colour only on a TTY, never with NO_COLOR or TERM=dumb', () => {
    expect(isColourEnabled({ isTTY: true, write: () => true }, {})).toBe(true);
    expect(isColourEnabled({ isTTY: false, write: () => true }, {})).toBe(false);
    expect(isColourEnabled({ isTTY: true, write: () => true }, { NO_COLOR: '1' })).toBe(false);
    expect(isColourEnabled({ isTTY: true, write: () => true }, { TERM: 'dumb' })).toBe(false);
    const checks = [ok('vault.tcp', 'fine'), fail('vault.tls', 'TLS_UNTRUSTED', 'bad', 'pass --ca-file')];
    expect(renderChecks(checks, palette(false))).toBe(
      '✓ vault.tcp        fine\n✗ vault.tls        bad [TLS_UNTRUSTED]\n  fix: pass --ca-file\n',
    );
    expect(renderChecks(checks, palette(true))).toContain('\u001b[31m✗\u001b[0m');
  });

  it('draws a progress bar on a TTY only, and only once the work has taken a second', () => {
    let now = 0;
    const pipe = fakeStream(false);
    const quiet = startProgress({ label: 'importing', total: 10, stream: pipe, now: () => now });
    quiet.update(5);
    quiet.finish();
    expect(pipe.written).toEqual([]);

    const tty = fakeStream(true);
    const bar = startProgress({ label: 'importing', total: 10, stream: tty, now: () => now });
    now = 500;
    bar.update(2);
    expect(tty.written).toEqual([]);
    now = 1500;
    bar.update(5);
    expect(tty.written.join('')).toContain('5/10 50%');
    now = 1550;
    bar.update(6);
    expect(tty.written).toHaveLength(1);
    bar.update(10);
    bar.finish();
    expect(tty.written.join('')).toContain('10/10 100%');
    expect(tty.written.at(-1)).toBe('\n');
  });
});

describe('--help on every level', () => {
  it.each([
    [['team', '--help'], 'rune team add --name alice'],
    [['team', 'add', '--help'], 'Examples:'],
    [['team', 'list', '--help'], 'Example:'],
    [['configure', '--help'], 'Examples:'],
    [['status', '--help'], 'Examples:'],
    [['import', '--help'], 'Resuming'],
    [['export', '--help'], 'Examples:'],
  ])('rune %s prints usage with examples', async (argv, needle) => {
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(argv, {})).toBe(0);
      const text = spy.mock.calls.map((c) => String(c[0])).join('');
      expect(text).toContain('Usage: rune');
      expect(text).toContain(needle);
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses an unknown team command with exit 2', async () => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['team', 'frobnicate'], {})).toBe(2);
    } finally {
      spy.mockRestore();
    }
  });
});
