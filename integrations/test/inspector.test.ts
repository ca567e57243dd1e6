import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNE_TOOLS } from './support/frontmatter.js';
import { runJailed } from './support/jail.js';
import { type MemberStack, startMemberStack } from './support/member-stack.js';
import {
  SKIP_REAL_CLIENTS,
  jailPath,
  quietClientEnv,
  requireClient,
  runeOnPath,
  scratchHome,
} from './support/real-clients.js';

/** The Inspector CLI's exit code for a tool result with isError (its EXIT_CODES.tool_is_error). */
const EXIT_TOOL_IS_ERROR = 5;
const SLOW_MS = 180_000;

interface ToolsList {
  result: { tools: { name: string; inputSchema: { type: string }; annotations?: Record<string, unknown> }[] };
}
interface ToolCall {
  result: { content: { type: string; text: string }[]; isError?: boolean };
}

describe.skipIf(SKIP_REAL_CLIENTS)(
  '`rune mcp` under the MCP Inspector CLI (stdio, real local stack, offline)',
  () => {
    let inspector: string;
    let rune: MemberStack;
    let home: string;
    let env: Record<string, string>;
    let recordId: string;

    beforeAll(async () => {
      inspector = requireClient('inspector');
      home = await scratchHome();
      env = { ...quietClientEnv(home), PATH: jailPath(await runeOnPath(home)) };
      rune = await startMemberStack();
      recordId = await rune.captureAsAdmin(
        'The billing service retries webhook deliveries with exponential backoff capped at 10 minutes, because the payment provider rate-limits bursts.',
        'incident review 2026-03',
      );
    }, SLOW_MS);
    afterAll(async () => {
      await rune.dispose();
      await rm(home, { recursive: true, force: true });
    });

    /** `mcp-inspector --cli rune mcp ARGS --format json`: the command every manifest starts. */
    function inspect(args: readonly string[]) {
      return runJailed(
        inspector,
        ['--cli', 'rune', 'mcp', ...args, '--format', 'json', '-e', `RUNE_CONFIG=${rune.memberConfigPath}`],
        { env, cwd: home, ports: rune.ports, timeoutMs: SLOW_MS },
      );
    }

    it(
      'lists exactly the six Rune tools, and `--strict` finds every schema portable',
      async () => {
        const run = await inspect(['--method', 'tools/list', '--strict']);
        // --strict exits 6 on an unportable schema (error severity).
        expect(run.code, run.stdout + run.stderr).toBe(0);
        const { tools } = (JSON.parse(run.stdout) as ToolsList).result;
        expect(tools.map((t) => t.name).sort()).toEqual([...RUNE_TOOLS].sort());
        for (const tool of tools) {
          expect(tool.inputSchema.type).toBe('object');
          expect(tool.annotations, tool.name).toBeDefined();
        }
      },
      SLOW_MS,
    );

    it(
      'recalls the team memory through tools/call, as text that is not a bare scalar',
      async () => {
        const run = await inspect([
          '--method',
          'tools/call',
          '--tool-name',
          'recall',
          '--tool-args-json',
          JSON.stringify({ query: 'why does billing back off webhook retries?' }),
        ]);
        expect(run.code, run.stdout + run.stderr).toBe(0);
        const { result } = JSON.parse(run.stdout) as ToolCall;
        expect(result.isError).not.toBe(true);
        const text = result.content.map((c) => c.text).join('\n');
        expect(text).toContain(recordId);
        expect(text).toContain('exponential backoff');
        // Gemini CLI rejects a text result that parses as a bare JSON number, boolean or array.
        expect(() => JSON.parse(text) as unknown).toThrow();
      },
      SLOW_MS,
    );

    it(
      'answers bad input with an isError result naming the field and a fix (exit 5), not a protocol error',
      async () => {
        const run = await inspect([
          '--method',
          'tools/call',
          '--tool-name',
          'capture',
          '--tool-args-json',
          JSON.stringify({ context: 'no insight given' }),
        ]);
        expect(run.code, run.stdout + run.stderr).toBe(EXIT_TOOL_IS_ERROR);
        const { result } = JSON.parse(run.stdout) as ToolCall;
        expect(result.isError).toBe(true);
        const text = result.content.map((c) => c.text).join('\n');
        expect(text).toContain('INVALID_INPUT');
        expect(text).toContain('insight');
        expect(run.stderr).toContain('tool_is_error');
      },
      SLOW_MS,
    );
  },
);
