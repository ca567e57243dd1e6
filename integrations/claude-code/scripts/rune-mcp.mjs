#!/usr/bin/env node
// Starts `rune mcp` for the Claude Code plugin; no dependencies, so the installed plugin needs none.
// Why not run `rune` directly from .mcp.json: Claude Code spawns MCP servers without a shell, so on
// Windows it cannot start npm's `rune.cmd` shim; and an app started from a desktop launcher often has
// a shorter PATH than your terminal, which RUNE_BIN (the full path of `rune`) gets around.
import { spawn } from 'node:child_process';
import process from 'node:process';

const bin = process.env.RUNE_BIN || 'rune';
const isWindows = process.platform === 'win32';
// With a shell (Windows only, for .cmd shims) the command line is joined unquoted: quote the path.
const child = spawn(isWindows ? `"${bin}"` : bin, ['mcp', ...process.argv.slice(2)], {
  stdio: 'inherit',
  shell: isWindows,
});
child.once('error', (err) => {
  process.stderr.write(
    `rune plugin: cannot start "${bin} mcp" (${err.message}). Install Rune so that \`rune\` runs from ` +
      'the shell that starts Claude Code, or set RUNE_BIN to its full path; see docs/CLAUDE_SETUP.md.\n',
  );
  process.exit(127);
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.once('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
