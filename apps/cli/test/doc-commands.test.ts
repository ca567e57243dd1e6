import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/main.js';

/**
 * Doc-test: every `rune …` command shown in a code block of README.md or docs/*.md names a real
 * subcommand, and every flag it uses is one that subcommand's --help documents. Commands that the
 * quick start and the guides rely on are also run for real by the e2e, onboarding and MCP tests; this
 * test keeps the docs from drifting away from the CLI as either changes.
 */

const ROOT = join(import.meta.dirname, '..', '..', '..');

interface DocCommand {
  readonly file: string;
  readonly line: string;
  readonly words: readonly string[];
}

async function docFiles(): Promise<string[]> {
  const docs = (await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

const SHELL_FENCE = /^```(sh|bash|shell|console|powershell|ps1|pwsh)\s*$/;

/** Lines inside shell code blocks that invoke rune (optionally via npx or after a prompt). */
function commandsIn(file: string, text: string): DocCommand[] {
  const out: DocCommand[] = [];
  let inFence = false;
  let pending = '';
  for (const raw of text.split('\n')) {
    const fence = raw.trim();
    if (fence.startsWith('```')) {
      inFence = !inFence && SHELL_FENCE.test(fence);
      pending = '';
      continue;
    }
    if (!inFence) continue;
    let line = pending + raw.trim();
    if (line.endsWith('\\')) {
      pending = `${line.slice(0, -1)} `;
      continue;
    }
    pending = '';
    line = line.replace(/^(\$|PS>|>)\s+/, '').replace(/\s+#.*$/, '');
    const match = /^(?:npx\s+)?rune\s+(.*)$/.exec(line);
    if (match?.[1] === undefined) continue;
    out.push({ file, line, words: match[1].split(/\s+/).filter((w) => w !== '') });
  }
  return out;
}

/** The subcommand path: leading words that are not flags or arguments, as long as help accepts them. */
async function helpFor(words: readonly string[]): Promise<{ path: string[]; help: string } | undefined> {
  const leading: string[] = [];
  for (const w of words) {
    if (w.startsWith('-') || !/^[a-z][a-z-]*$/.test(w)) break;
    leading.push(w);
  }
  for (let n = Math.min(3, leading.length); n >= 1; n--) {
    const path = leading.slice(0, n);
    const { code, stdout } = await captureMain([...path, '--help']);
    if (code === 0 && stdout.includes('Usage: rune')) return { path, help: stdout };
  }
  return undefined;
}

async function captureMain(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  const writeErr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await main(argv, { ...process.env, NO_COLOR: '1' });
    return { code, stdout };
  } finally {
    write.mockRestore();
    writeErr.mockRestore();
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('commands shown in the docs', () => {
  it('finds documented rune commands to check', async () => {
    let total = 0;
    for (const file of await docFiles()) {
      total += commandsIn(file, await readFile(join(ROOT, file), 'utf8')).length;
    }
    expect(total).toBeGreaterThanOrEqual(20);
  });

  it('every documented rune command exists and uses only flags its --help documents', async () => {
    const problems: string[] = [];
    for (const file of await docFiles()) {
      for (const cmd of commandsIn(file, await readFile(join(ROOT, file), 'utf8'))) {
        if (cmd.words[0] === '--help' || cmd.words[0] === '--version') continue;
        const found = await helpFor(cmd.words);
        if (found === undefined) {
          problems.push(`${cmd.file}: no such command: rune ${cmd.words.join(' ')}`);
          continue;
        }
        for (const word of cmd.words.slice(found.path.length)) {
          const flag = /^(--[a-z][a-z0-9-]*)/.exec(word)?.[1];
          if (flag === undefined || flag === '--help' || flag === '--json') continue;
          if (!found.help.includes(flag)) {
            problems.push(`${cmd.file}: "rune ${found.path.join(' ')}" has no ${flag} (in: ${cmd.line})`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
