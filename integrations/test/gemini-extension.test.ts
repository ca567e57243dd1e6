import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGemini } from './support/fake-gemini.js';
import { RUNE_TOOLS } from './support/frontmatter.js';
import { runJailed } from './support/jail.js';
import { type MemberStack, startMemberStack } from './support/member-stack.js';
import {
  INTEGRATIONS,
  SKIP_REAL_CLIENTS,
  jailPath,
  quietClientEnv,
  requireClient,
  runeOnPath,
  scratchHome,
} from './support/real-clients.js';

const EXTENSION = join(INTEGRATIONS, 'gemini');
const COMMANDS = ['capture', 'configure', 'forget', 'history', 'recall', 'status'];
const SLOW_MS = 180_000;

describe('Gemini CLI extension: files', () => {
  it('has a command per action, each a TOML file with a description and a prompt that receives the arguments', async () => {
    const dir = join(EXTENSION, 'commands', 'rune');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.toml')).sort();
    expect(files).toEqual(COMMANDS.map((c) => `${c}.toml`));
    for (const file of files) {
      const text = await readFile(join(dir, file), 'utf8');
      // `gemini extensions validate` does not parse command files; a broken one fails only at run time.
      expect(text, file).toMatch(/^description = "[^"\n]+"\nprompt = """\n[\s\S]+\n"""\n$/);
      if (file !== 'status.toml') expect(text, file).toContain('{{args}}');
    }
  });

  it('tells the model about every Rune tool in its context file', async () => {
    const context = await readFile(join(EXTENSION, 'GEMINI.md'), 'utf8');
    for (const tool of RUNE_TOOLS) expect(context).toContain(`\`${tool}\``);
  });
});

describe.skipIf(SKIP_REAL_CLIENTS)('Gemini CLI extension, checked by the real gemini CLI (offline)', () => {
  let gemini: string;
  let home: string;
  let env: Record<string, string>;
  let rune: MemberStack | undefined;

  beforeAll(async () => {
    gemini = requireClient('gemini');
    home = await scratchHome();
    env = { ...quietClientEnv(home), PATH: jailPath(await runeOnPath(home)) };
    // An API key (not the "gateway" auth a base URL alone selects) and no usage statistics.
    await mkdir(join(home, '.gemini'));
    await writeFile(
      join(home, '.gemini', 'settings.json'),
      JSON.stringify({
        security: { auth: { selectedType: 'gemini-api-key' } },
        privacy: { usageStatisticsEnabled: false },
      }),
    );
  });
  afterAll(async () => {
    await rune?.dispose();
    await rm(home, { recursive: true, force: true });
  });

  it('passes `gemini extensions validate`', async () => {
    const run = await runJailed(gemini, ['extensions', 'validate', EXTENSION], { env, cwd: home });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout + run.stderr).toContain('has been successfully validated');
  });

  it(
    'installs, starts `rune mcp` from the installed extension and recalls a team memory through /rune:recall',
    async () => {
      const install = await runJailed(gemini, ['extensions', 'install', EXTENSION, '--consent'], {
        env,
        cwd: home,
      });
      expect(install.code, install.stdout + install.stderr).toBe(0);
      const list = await runJailed(gemini, ['extensions', 'list'], { env, cwd: home });
      const listed = list.stdout + list.stderr;
      expect(listed).toContain('rune (0.1.0)');
      expect(listed).toContain(join('.gemini', 'extensions', 'rune', 'GEMINI.md'));
      expect(listed).toMatch(/MCP servers:\s+rune/);

      rune = await startMemberStack();
      const recordId = await rune.captureAsAdmin(
        'Mobile releases ship behind a remote feature flag for one week because app store rollbacks take days.',
        'release policy, 2026-02',
      );
      const model = await startFakeGemini({
        tool: /^mcp_rune_recall$/,
        args: { query: 'how do mobile releases ship?' },
      });
      try {
        const run = await runJailed(
          gemini,
          // yolo: headless runs otherwise leave out tools that need a confirmation; -m skips the model router.
          [
            '-p',
            '/rune:recall how do we ship mobile releases?',
            '--output-format',
            'json',
            '--approval-mode',
            'yolo',
            '-m',
            'gemini-2.5-flash',
          ],
          {
            env: {
              ...env,
              GOOGLE_GEMINI_BASE_URL: model.url,
              GEMINI_API_KEY: 'test',
              RUNE_CONFIG: rune.memberConfigPath,
            },
            cwd: home,
            ports: [model.port, ...rune.ports],
            timeoutMs: SLOW_MS,
          },
        );
        expect(run.code, run.stdout + run.stderr).toBe(0);
        const first = model.requests[0];
        expect(first?.functionNames).toEqual(expect.arrayContaining(RUNE_TOOLS.map((t) => `mcp_rune_${t}`)));
        // The context file and the expanded command both reach the model.
        expect(first?.raw).toContain('Recall before you answer or re-decide');
        expect(first?.raw).toContain("Search the team's memory for: how do we ship mobile releases?");
        expect(model.functionResponses.map((r) => r.name)).toEqual(['mcp_rune_recall']);
        const answer = JSON.stringify(model.functionResponses[0]?.response);
        expect(answer).toContain(recordId);
        expect(answer).toContain('remote feature flag');
        expect((JSON.parse(run.stdout) as { response: string }).response).toContain(recordId);

        // What docs/GEMINI_SETUP.md tells users to check. It gives a server only 5 s to answer, which a
        // cold `rune mcp` on a loaded machine can miss, so only the entry is checked here, not "Connected".
        const mcpList = await runJailed(gemini, ['mcp', 'list'], { env, cwd: home });
        expect(mcpList.stdout + mcpList.stderr).toContain('rune (from rune): rune mcp (stdio)');
      } finally {
        await model.close();
      }
    },
    SLOW_MS,
  );
});
