import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WAIT_TOOL, startFakeAnthropic } from './support/fake-anthropic.js';
import { CLAUDE_PLUGIN_TOOL_PREFIX, RUNE_TOOLS, readMarkdownDir, toolList } from './support/frontmatter.js';
import { runJailed } from './support/jail.js';
import { type MemberStack, startMemberStack } from './support/member-stack.js';
import {
  INTEGRATIONS,
  REPO_ROOT,
  RUNE_BIN,
  SKIP_REAL_CLIENTS,
  jailPath,
  quietClientEnv,
  requireClient,
  runeOnPath,
  scratchHome,
} from './support/real-clients.js';

const PLUGIN = join(INTEGRATIONS, 'claude-code');
const COMMANDS = ['capture', 'configure', 'forget', 'history', 'recall', 'status'];

function runNode(args: readonly string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, args, { env, timeout: 60_000 }, (_err, stdout, stderr) => {
      resolve({ code: child.exitCode, stdout, stderr });
    });
  });
}

interface ValidateReport {
  success: boolean;
  manifest: { errors: unknown[]; warnings: unknown[] };
  provides: {
    mcpServers: { name: string; target: string; args: string[] }[];
    commands: string[];
    agents: string[];
  } | null;
}

interface PrintResult {
  result: string;
  is_error: boolean;
  permission_denials: unknown[];
}

describe('Claude Code plugin: files', () => {
  it('grants each slash command and subagent only Rune tools under the plugin-prefixed names Claude Code uses', async () => {
    const known = new Set(RUNE_TOOLS.map((t) => `${CLAUDE_PLUGIN_TOOL_PREFIX}${t}`));
    const commands = await readMarkdownDir(join(PLUGIN, 'commands'));
    const agents = await readMarkdownDir(join(PLUGIN, 'agents'));
    expect(commands.map((c) => c.name)).toEqual(COMMANDS);
    expect(agents.map((a) => a.name)).toEqual(['retriever', 'scribe']);
    const granted = [
      ...commands.map((c) => ({
        file: `commands/${c.name}.md`,
        tools: toolList(c.frontmatter['allowed-tools']),
      })),
      ...agents.map((a) => ({ file: `agents/${a.name}.md`, tools: toolList(a.frontmatter.tools) })),
    ];
    for (const { file, tools } of granted) {
      const mcp = tools.filter((t) => t.startsWith('mcp__'));
      expect(mcp.length, `${file} grants no Rune tool`).toBeGreaterThan(0);
      for (const tool of mcp) expect(known, `${file}: ${tool}`).toContain(tool);
    }
    // The subagents' contracts: the scribe writes, the retriever only reads.
    const tools = (name: string) => toolList(agents.find((a) => a.name === name)?.frontmatter.tools);
    expect(tools('scribe')).toContain(`${CLAUDE_PLUGIN_TOOL_PREFIX}capture`);
    expect(tools('retriever')).toEqual(expect.arrayContaining([`${CLAUDE_PLUGIN_TOOL_PREFIX}recall`]));
    expect(tools('retriever').some((t) => /capture|forget/.test(t))).toBe(false);
  });

  it('lists the plugin in the marketplace at the repository root with a source that exists', async () => {
    const marketplace = JSON.parse(
      await readFile(join(REPO_ROOT, '.claude-plugin', 'marketplace.json'), 'utf8'),
    ) as {
      plugins: { name: string; source: string; version: string }[];
    };
    const plugin = JSON.parse(await readFile(join(PLUGIN, '.claude-plugin', 'plugin.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    // `claude plugin validate` does not check that a listed source exists; the install below would fail late.
    expect(marketplace.plugins).toEqual([
      expect.objectContaining({ name: plugin.name, version: plugin.version }),
    ]);
    expect(join(REPO_ROOT, marketplace.plugins[0]!.source)).toBe(join(PLUGIN, '/').slice(0, -1));
  });
});

describe('Claude Code plugin: the launcher its .mcp.json runs', () => {
  const launcher = join(PLUGIN, 'scripts', 'rune-mcp.mjs');
  const bareEnv = { PATH: jailPath(), HOME: '/nonexistent' };

  it('runs the rune that RUNE_BIN names, passing its arguments on to `rune mcp`', async () => {
    const run = await runNode([launcher, '--help'], { ...bareEnv, RUNE_BIN });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('rune mcp — the MCP server agents talk to');
  });

  it('says how to fix a missing rune (exit 127) instead of dying silently', async () => {
    const run = await runNode([launcher], bareEnv);
    expect(run.code).toBe(127);
    expect(run.stderr).toContain('cannot start "rune mcp"');
    expect(run.stderr).toContain('RUNE_BIN');
  });
});

describe.skipIf(SKIP_REAL_CLIENTS)('Claude Code plugin, checked by the real claude CLI (offline)', () => {
  let claude: string;
  let home: string;
  let env: Record<string, string>;
  let rune: MemberStack | undefined;

  beforeAll(async () => {
    claude = requireClient('claude');
    home = await scratchHome();
    env = { ...quietClientEnv(home), PATH: jailPath(await runeOnPath(home)) };
  });
  afterAll(async () => {
    await rune?.dispose();
    await rm(home, { recursive: true, force: true });
  });

  async function validate(path: string): Promise<ValidateReport> {
    const run = await runJailed(claude, ['plugin', 'validate', path, '--strict', '--json'], { env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    return JSON.parse(run.stdout) as ValidateReport;
  }

  it('passes `claude plugin validate --strict` on the plugin, with no warning', async () => {
    const report = await validate(PLUGIN);
    expect(report.success).toBe(true);
    expect(report.manifest).toMatchObject({ errors: [], warnings: [] });
    expect(report.provides?.mcpServers).toEqual([
      expect.objectContaining({
        name: 'rune',
        target: 'node',
        args: ['${CLAUDE_PLUGIN_ROOT}/scripts/rune-mcp.mjs'],
      }),
    ]);
    expect(report.provides?.commands).toEqual(COMMANDS.map((c) => `rune:${c}`));
    expect(report.provides?.agents).toEqual(['rune:retriever', 'rune:scribe']);
  });

  it('passes `claude plugin validate --strict` on the marketplace at the repository root', async () => {
    const report = await validate(REPO_ROOT);
    expect(report.success).toBe(true);
    expect(report.manifest).toMatchObject({ errors: [], warnings: [] });
  });

  it(
    'installs from the marketplace, starts `rune mcp` from the installed plugin and recalls a team memory through /rune:recall',
    { timeout: 180_000 },
    async () => {
      for (const args of [
        ['plugin', 'marketplace', 'add', REPO_ROOT],
        ['plugin', 'install', 'rune@rune'],
      ]) {
        const run = await runJailed(claude, args, { env });
        expect(run.code, run.stdout + run.stderr).toBe(0);
      }
      rune = await startMemberStack();
      const insight =
        'We chose PostgreSQL for the ledger service because it needs serializable transactions across accounts.';
      const recordId = await rune.captureAsAdmin(insight, 'Q3 ledger design review');
      const model = await startFakeAnthropic({
        tool: /recall$/,
        input: { query: 'which database for the ledger?' },
      });
      try {
        // No --allowedTools and no --plugin-dir: only the installed plugin's command frontmatter grants the tool.
        const run = await runJailed(
          claude,
          ['-p', '/rune:recall which database does the ledger use?', '--output-format', 'json'],
          {
            env: {
              ...env,
              ANTHROPIC_BASE_URL: model.url,
              ANTHROPIC_API_KEY: 'sk-ant-test',
              // Otherwise MCP tools are deferred behind ToolSearch and missing from the first request.
              ENABLE_TOOL_SEARCH: 'false',
              RUNE_CONFIG: rune.memberConfigPath,
            },
            cwd: home,
            ports: [model.port, ...rune.ports],
          },
        );
        expect(run.code, run.stdout + run.stderr).toBe(0);
        const result = JSON.parse(run.stdout) as PrintResult;
        const offered = model.requests.find((r) =>
          r.toolNames.includes(`${CLAUDE_PLUGIN_TOOL_PREFIX}recall`),
        );
        expect(offered?.toolNames).toEqual(
          expect.arrayContaining(RUNE_TOOLS.map((t) => `${CLAUDE_PLUGIN_TOOL_PREFIX}${t}`)),
        );
        expect(model.requests[0]?.messagesText).toContain('<command-name>/rune:recall</command-name>');
        expect(model.requests[0]?.raw).toContain('rune:scribe');
        expect(model.requests[0]?.raw).toContain('rune:retriever');
        expect(result.permission_denials).toEqual([]);
        const results = model.toolResults.filter((r) => r.toolName !== WAIT_TOOL);
        expect(results).toEqual([
          expect.objectContaining({ toolName: `${CLAUDE_PLUGIN_TOOL_PREFIX}recall`, isError: false }),
        ]);
        const text = results[0]?.text ?? '';
        expect(text).toContain(recordId);
        expect(text).toContain('serializable transactions');
        expect(result).toMatchObject({ is_error: false });
        expect(result.result).toContain(recordId);

        // What docs/CLAUDE_SETUP.md tells users to check; it exits 0 even for a failed server.
        const list = await runJailed(claude, ['mcp', 'list'], {
          env: { ...env, RUNE_CONFIG: rune.memberConfigPath },
          cwd: home,
          ports: rune.ports,
        });
        expect(list.code, list.stdout + list.stderr).toBe(0);
        expect(list.stdout).toMatch(/plugin:rune:rune: .*✔ Connected/);
      } finally {
        await model.close();
      }
    },
  );

  it(
    'stores a memory through /rune:capture in the installed plugin that a teammate then recalls',
    { timeout: 180_000 },
    async () => {
      // Runs after the test above: it installed the plugin and started the stack.
      if (rune === undefined) throw new Error('the install test did not run');
      const insight =
        'The search service caches embeddings per tenant for 24 hours because recomputing them cost 40% of its CPU.';
      const model = await startFakeAnthropic({
        tool: /__capture$/,
        input: { insight, title: 'Embedding cache' },
      });
      try {
        const run = await runJailed(claude, ['-p', `/rune:capture ${insight}`, '--output-format', 'json'], {
          env: {
            ...env,
            ANTHROPIC_BASE_URL: model.url,
            ANTHROPIC_API_KEY: 'sk-ant-test',
            ENABLE_TOOL_SEARCH: 'false',
            RUNE_CONFIG: rune.memberConfigPath,
          },
          cwd: home,
          ports: [model.port, ...rune.ports],
        });
        expect(run.code, run.stdout + run.stderr).toBe(0);
        expect((JSON.parse(run.stdout) as PrintResult).permission_denials).toEqual([]);
        const results = model.toolResults.filter((r) => r.toolName !== WAIT_TOOL);
        expect(results).toEqual([
          expect.objectContaining({ toolName: `${CLAUDE_PLUGIN_TOOL_PREFIX}capture`, isError: false }),
        ]);
        const recordId = /rec_[A-Za-z0-9_-]+/.exec(results[0]?.text ?? '')?.[0];
        expect(recordId, results[0]?.text).toBeDefined();
        expect(await rune.recallAsAdmin('how long are tenant embeddings cached?')).toContain(recordId);
      } finally {
        await model.close();
      }
    },
  );
});
