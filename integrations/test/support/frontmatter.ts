import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';

/** Rune's MCP tools (`rune mcp`); inspector.test.ts checks the real server lists exactly these. */
export const RUNE_TOOLS = ['capture', 'batch_capture', 'recall', 'history', 'forget', 'status'] as const;

/** How Claude Code names a plugin's MCP tool: mcp__plugin_<plugin>_<server>__<tool>. */
export const CLAUDE_PLUGIN_TOOL_PREFIX = 'mcp__plugin_rune_rune__';

export interface MarkdownFile {
  readonly name: string;
  readonly frontmatter: Record<string, unknown>;
  readonly body: string;
}

/** Every `*.md` in a folder, its YAML frontmatter parsed (a file without one fails). */
export async function readMarkdownDir(dir: string): Promise<MarkdownFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.md')).sort();
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(join(dir, name), 'utf8');
      const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
      if (match === null) throw new Error(`${name} has no YAML frontmatter`);
      return {
        name: name.slice(0, -3),
        frontmatter: parse(match[1] ?? '') as Record<string, unknown>,
        body: match[2] ?? '',
      };
    }),
  );
}

/** A comma-separated tool list from frontmatter (`allowed-tools`, `tools`). */
export function toolList(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}
