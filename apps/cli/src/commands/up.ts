import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { defaultConfigPath, readMemberConfig, writeMemberConfig } from '@rune/client';
import { isLoopbackHost } from '@rune/tls';
import { flag, intOpt, parse, portOpt, requiredOpt, stringOpt } from '../args.js';
import { usageError } from '../cli-error.js';
import { runUntilSignal } from '../lifecycle.js';
import { DEFAULT_DIM, startLocalStack } from '../stack/local-stack.js';

export const UP_HELP = `rune up — run a local Vault and index on loopback, with embedded storage

Usage: rune up --data-dir DIR [--vault-port 50080] [--index-port 50090]

  --data-dir DIR       keys, members, audit log and the encrypted index live here
  --vault-port N       Vault port (default 50080; 0 picks a free one)
  --index-port N       index port (default 50090; 0 picks a free one)
  --host ADDR          loopback address to listen on (default 127.0.0.1)
  --plain-http         plain HTTP on loopback instead of a generated private CA
  --kek-env NAME       take the key-encryption passphrase from this variable
                       (default: a generated file in DIR, fine for a single machine only)
  --threads N          scoring threads of the index (default: every core)

The first run generates the keys, creates the index "team" for the offline BM25 embedder
(${DEFAULT_DIM} dimensions; other embedders: docs/embedders.md) and a local admin, and writes that
admin's member config to the standard location (RUNE_CONFIG, or $XDG_CONFIG_HOME/rune/vault-config.json,
or ~/.config/rune/vault-config.json) unless one exists there already.

Example:
  rune up --data-dir ~/.local/share/rune
  # then, from another shell:
  rune capture --insight "We chose PostgreSQL for the ledger because we need serializable transactions"
  rune recall "which database for the ledger?"`;

/** How each agent registers `rune mcp` (stdio) for every project of this user; see docs/*_SETUP.md. */
const AGENT_COMMANDS = {
  claude: 'claude mcp add --scope user rune -- rune mcp',
  gemini: 'gemini mcp add -s user rune rune mcp',
  codex: 'codex mcp add rune -- rune mcp',
} as const;

export async function up(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parse('up', argv, {
    'data-dir': { type: 'string' },
    'vault-port': { type: 'string' },
    'index-port': { type: 'string' },
    host: { type: 'string' },
    'plain-http': { type: 'boolean' },
    'kek-env': { type: 'string' },
    threads: { type: 'string' },
  });
  if (parsed.values.help === true) {
    process.stdout.write(`${UP_HELP}\n`);
    return 0;
  }
  const kekEnv = stringOpt(parsed, 'kek-env');
  const host = stringOpt(parsed, 'host') ?? '127.0.0.1';
  // The local stack is a single-machine stack; a reachable Vault is `rune vault serve`.
  if (!isLoopbackHost(host)) {
    throw usageError(
      `up: --host must be a loopback address, got "${host}"`,
      'to serve other machines, use rune vault serve and rune index serve',
    );
  }
  const stack = await startLocalStack({
    dataDir: requiredOpt(parsed, 'up', 'data-dir'),
    host,
    vaultPort: portOpt(parsed, 'up', 'vault-port', 50080),
    indexPort: portOpt(parsed, 'up', 'index-port', 50090),
    plainHttp: flag(parsed, 'plain-http'),
    ...(parsed.values.threads === undefined ? {} : { threads: intOpt(parsed, 'up', 'threads', 1, 1, 64) }),
    ...(kekEnv === undefined ? {} : { kekEnv }),
    env,
  });
  const configPath = defaultConfigPath({ env, platform: process.platform, homedir: homedir() });
  const existing = await readMemberConfig(configPath).catch(() => undefined);
  const hasConfig =
    existing !== undefined ||
    (await access(configPath).then(
      () => true,
      () => false,
    ));
  // The config this stack wrote before (same admin token) follows it to new ports; any other stays.
  const isOurs = existing?.token === stack.adminConfig.token;
  if (!hasConfig || isOurs) await writeMemberConfig(configPath, stack.adminConfig);
  process.stdout.write(
    `${JSON.stringify({
      service: 'rune-up',
      vaultUrl: stack.vault.url,
      indexUrl: stack.index.url,
      indexId: stack.adminConfig.indexId,
      memberConfig: configPath,
      memberConfigWritten: !hasConfig || isOurs,
      adminConfig: stack.adminConfigPath,
      agents: AGENT_COMMANDS,
    })}\n`,
  );
  process.stderr.write(
    `Rune is up: Vault ${stack.vault.url}, index ${stack.index.url}.\n` +
      (hasConfig && !isOurs
        ? `A member config already exists at ${configPath}; it was left alone (the local admin's is ${stack.adminConfigPath}).\n`
        : `The local admin's member config was written to ${configPath}.\n`) +
      'Try: rune capture --insight "..."  and  rune recall "..."   (Ctrl-C stops the stack)\n' +
      'Connect your agent (the MCP server reads the member config above):\n' +
      Object.entries(AGENT_COMMANDS)
        .map(([agent, command]) => `  ${agent.padEnd(7)} ${command}\n`)
        .join(''),
  );
  return runUntilSignal(() => stack.close());
}
