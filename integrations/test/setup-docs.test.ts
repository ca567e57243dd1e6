import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INTEGRATIONS, REPO_ROOT } from './support/real-clients.js';

const DOCS = ['CLAUDE_SETUP.md', 'GEMINI_SETUP.md', 'CODEX_SETUP.md'];

async function doc(name: string): Promise<string> {
  return readFile(join(REPO_ROOT, 'docs', name), 'utf8');
}

/** Fenced blocks of one language, in order. */
function blocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1] ?? '');
}

describe('setup docs', () => {
  it.each(DOCS)('%s names only repository paths that exist', async (name) => {
    const text = await doc(name);
    const paths = [...text.matchAll(/`((?:integrations|docs|tools)\/[^`\s]+)`/g)].map((m) => m[1] ?? '');
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) expect(existsSync(join(REPO_ROOT, path)), `${name}: ${path}`).toBe(true);
  });

  // The commands below are the ones the real-client tests run (claude-plugin, gemini-extension, codex).
  it('shows the install and check commands the Claude Code test runs', async () => {
    const text = await doc('CLAUDE_SETUP.md');
    expect(text).toContain('claude plugin marketplace add /path/to/rune');
    expect(text).toContain('claude plugin install rune@rune');
    expect(text).toContain('claude mcp list');
    expect(text).toContain('--allowedTools mcp__plugin_rune_rune__recall');
  });

  it('shows the install commands the Gemini CLI test runs', async () => {
    const text = await doc('GEMINI_SETUP.md');
    expect(text).toContain('gemini extensions install ./rune/integrations/gemini --consent');
    expect(text).toContain('gemini extensions list');
    expect(text).toContain('--approval-mode yolo');
  });

  it('shows the Codex entry exactly as integrations/codex/config.toml has it', async () => {
    const text = await doc('CODEX_SETUP.md');
    expect(text).toContain('codex mcp add rune -- rune mcp');
    const snippet = await readFile(join(INTEGRATIONS, 'codex', 'config.toml'), 'utf8');
    const table = snippet
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n');
    expect(blocks(text, 'toml')[0]).toBe(table);
  });
});
