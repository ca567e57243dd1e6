import { describe, expect, it } from 'vitest';
import { runRune } from '../../cli/test/run-rune.js';
import { REPO_ROOT, childEnv } from './harness.js';

describe('rune mcp command line', () => {
  it('prints its help, and is listed in rune --help', async () => {
    const [help, main] = await Promise.all([
      runRune(['mcp', '--help'], { env: childEnv({}), cwd: REPO_ROOT }),
      runRune(['--help'], { env: childEnv({}), cwd: REPO_ROOT }),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('rune mcp --http --port N');
    expect(main.stdout).toMatch(/\n {2}mcp {2,}MCP server/);
  });

  it('refuses plain HTTP off loopback and --http without a port, as usage errors', async () => {
    const [remote, noPort] = await Promise.all([
      runRune(['mcp', '--http', '--port', '0', '--host', '0.0.0.0'], { env: childEnv({}), cwd: REPO_ROOT }),
      runRune(['mcp', '--http'], { env: childEnv({}), cwd: REPO_ROOT }),
    ]);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('refusing plain HTTP on 0.0.0.0');
    expect(noPort.code).toBe(2);
    expect(noPort.stderr).toContain('--http needs --port');
    expect(remote.stdout + noPort.stdout).toBe('');
  });
});
