import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const INTEGRATIONS = join(REPO_ROOT, 'integrations');
export const RUNE_BIN = join(REPO_ROOT, 'apps', 'cli', 'bin', 'rune.js');
const CLIENTS_BIN = join(REPO_ROOT, 'tools', 'real-clients', 'node_modules', '.bin');

/** The pinned third-party CLIs (tools/real-clients/package.json). */
export const CLIENTS = {
  claude: join(CLIENTS_BIN, 'claude'),
  gemini: join(CLIENTS_BIN, 'gemini'),
  codex: join(CLIENTS_BIN, 'codex'),
  inspector: join(CLIENTS_BIN, 'mcp-inspector'),
} as const;

export const INSTALL_HINT =
  'cd tools/real-clients && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund';

/** Only an explicit opt-out skips these tests; a missing tool is a failure, not a skip. */
export const SKIP_REAL_CLIENTS = process.env.RUNE_SKIP_REAL_CLIENTS === '1';

/** Throws, naming the install command, unless the pinned client and the jail's tools are present. */
export function requireClient(name: keyof typeof CLIENTS): string {
  const path = CLIENTS[name];
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`${INSTALL_HINT}\` (or set RUNE_SKIP_REAL_CLIENTS=1)`);
  }
  for (const tool of ['/usr/bin/unshare', '/usr/sbin/ip']) {
    if (!existsSync(tool))
      throw new Error(`${tool} is missing: the no-network jail needs util-linux and iproute2`);
  }
  return path;
}

/** A fresh HOME for one client run (under /var/tmp: Codex refuses helper links under /tmp). */
export async function scratchHome(): Promise<string> {
  return mkdtemp(join(existsSync('/var/tmp') ? '/var/tmp' : tmpdir(), 'rune-rc-'));
}

/**
 * A folder holding only a `rune` that runs this checkout's CLI, for PATH: what an installed Rune
 * gives a user, and the command every manifest starts (`rune mcp`).
 */
export async function runeOnPath(home: string): Promise<string> {
  const bin = join(home, 'bin');
  await mkdir(bin, { recursive: true });
  await symlink(RUNE_BIN, join(bin, 'rune'));
  return bin;
}

/** PATH for a jailed client: `rune` (optional), this Node, and the system tools. */
export function jailPath(runeBin?: string): string {
  return [
    ...(runeBin === undefined ? [] : [runeBin]),
    dirname(process.execPath),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
  ].join(':');
}

/** Environment every third-party client gets: no update checks, no telemetry, no trust prompts. */
export function quietClientEnv(home: string): Record<string, string> {
  return {
    HOME: home,
    CODEX_HOME: join(home, '.codex'),
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
    NO_COLOR: '1',
    LANG: 'C.UTF-8',
  };
}
