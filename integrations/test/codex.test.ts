import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RUNE_TOOLS } from './support/frontmatter.js';
import { runJailed } from './support/jail.js';
import {
  INTEGRATIONS,
  SKIP_REAL_CLIENTS,
  jailPath,
  quietClientEnv,
  requireClient,
  scratchHome,
} from './support/real-clients.js';

const SNIPPET = join(INTEGRATIONS, 'codex', 'config.toml');

interface McpServerEntry {
  name: string;
  enabled: boolean;
  transport: { type: string; command: string; args: string[]; env_vars: string[] };
}

describe('Codex instructions: files', () => {
  it('tells the model about every Rune tool in AGENTS.md', async () => {
    const agents = await readFile(join(INTEGRATIONS, 'codex', 'AGENTS.md'), 'utf8');
    for (const tool of RUNE_TOOLS) expect(agents).toContain(`\`${tool}\``);
  });
});

describe.skipIf(SKIP_REAL_CLIENTS)('Codex MCP entry, checked by the real codex CLI (offline)', () => {
  let codex: string;
  let home: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    codex = requireClient('codex');
    home = await scratchHome();
    env = { ...quietClientEnv(home), PATH: jailPath() };
    await mkdir(join(home, '.codex'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  async function codexJson(args: readonly string[]): Promise<McpServerEntry> {
    const run = await runJailed(codex, args, { env, cwd: home });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    return JSON.parse(run.stdout) as McpServerEntry;
  }

  it('accepts the documented `codex mcp add rune -- rune mcp` and writes the table of the documented snippet', async () => {
    const add = await runJailed(codex, ['mcp', 'add', 'rune', '--', 'rune', 'mcp'], { env, cwd: home });
    expect(add.code, add.stdout + add.stderr).toBe(0);
    const entry = await codexJson(['mcp', 'get', 'rune', '--json']);
    expect(entry).toMatchObject({
      name: 'rune',
      enabled: true,
      transport: { type: 'stdio', command: 'rune', args: ['mcp'] },
    });
    const written = await readFile(join(home, '.codex', 'config.toml'), 'utf8');
    const snippetLines = (await readFile(SNIPPET, 'utf8'))
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    // The snippet is what `codex mcp add` writes, plus env_vars.
    expect(written.trim().split('\n')).toEqual(snippetLines.filter((l) => !l.startsWith('env_vars')));
  });

  it('loads the documented config.toml snippet as a stdio server passing on the config variables', async () => {
    await writeFile(join(home, '.codex', 'config.toml'), await readFile(SNIPPET, 'utf8'));
    const entry = await codexJson(['mcp', 'get', 'rune', '--json']);
    expect(entry.transport).toMatchObject({
      type: 'stdio',
      command: 'rune',
      args: ['mcp'],
      env_vars: ['RUNE_CONFIG', 'XDG_CONFIG_HOME', 'XDG_STATE_HOME'],
    });
    const list = await runJailed(codex, ['mcp', 'list', '--json'], { env, cwd: home });
    expect(list.code, list.stdout + list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as McpServerEntry[]).map((s) => s.name)).toEqual(['rune']);
  });

  it('refuses a broken entry, so the checks above would notice one', async () => {
    await writeFile(join(home, '.codex', 'config.toml'), '[mcp_servers.rune]\nargs = ["mcp"]\n');
    const run = await runJailed(codex, ['mcp', 'list', '--json'], { env, cwd: home });
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toContain('mcp_servers.rune');
  });
});
