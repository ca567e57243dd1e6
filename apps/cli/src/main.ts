import { isCryptoError } from '@rune/crypto';
import { CliError, ExitCode } from './cli-error.js';
import { bench } from './commands/bench.js';
import { capture } from './commands/capture.js';
import { configure } from './commands/configure.js';
import { indexServe } from './commands/index-serve.js';
import { loadtest } from './commands/loadtest.js';
import { mcp } from './commands/mcp.js';
import { exportMemories, importMemories } from './commands/memories.js';
import { recall } from './commands/recall.js';
import { indexShowKey, vaultShowKey } from './commands/show-key.js';
import { status } from './commands/status.js';
import { team, teamAdd, teamInvite, teamList, teamRemove, teamRotate } from './commands/team.js';
import { up } from './commands/up.js';
import { vaultAuditVerify } from './commands/vault-audit.js';
import { vaultBackup, vaultRestore } from './commands/vault-backup.js';
import { vaultServe } from './commands/vault-serve.js';

export const MAIN_HELP = `rune — encrypted team memory for AI coding agents

Usage: rune <command> [options]     (rune <command> --help for details)

  up                   run a local Vault and index (embedded storage, keys on first run)
  vault serve          run the Vault
  vault audit verify   check the audit log's hash chain
  vault backup         encrypted copy of the key set (vault restore installs one)
  vault show-key       the public key hash and key id members pin
  index serve          run an index
  index show-key       the index's signing key (created on first use) for the Vault to trust
  capture              store a memory (encrypted on this machine)
  recall QUERY         find memories by meaning
  mcp                  MCP server for agents (stdio; --http for Streamable HTTP)
  configure            connect this machine to a Vault (tests it first) and save the member config
  status               check config, Vault, TLS, token, clock, key pin, index; a fix for each problem
  team add|list|remove|rotate|invite   manage members; add builds a member's setup package
  import FILE          capture memories in bulk from JSON lines (resumable)
  export --out FILE    write the memories recall finds to JSON lines
  loadtest [SCENARIO]  load-test a Vault and index (smoke, baseline, sustained, stress, spike, custom)
  bench NAME           run a benchmark: engine, e2e or quality (from a source checkout)

Examples:
  rune up --data-dir ~/.rune-local
  rune recall "why did we pick PostgreSQL?" --k 3
  rune team add --name alice --email alice@example.com --os macos --out ./packages

Exit codes: 0 success, 1 failure (the message says what and how to fix it), 2 usage error.`;

type Command = (argv: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>;

const VAULT_HELP = `rune vault — run and look after the Vault (the service that holds the secret key)

Usage: rune vault <serve|show-key|backup|restore|audit verify> [options]

  serve          run the Vault (HTTPS; KEK from a file, an environment variable or a systemd credential)
  show-key       the public key hash and key id members pin
  backup         the key set, encrypted under a passphrase
  restore        install a backup into a data directory
  audit verify   check the audit log's hash chain and its signed head

Example:
  rune vault show-key --data-dir /var/lib/rune/vault`;

const INDEX_HELP = `rune index — run the encrypted index (stores and scores ciphertexts only)

Usage: rune index <serve|show-key> [options]

  serve      run an index
  show-key   the index's signing key, for the Vault to trust (--index-key-file)

Example:
  rune index show-key --data-dir /var/lib/rune/index`;

/** A command group without a subcommand: its help, exit 2 unless help was asked for. */
function group(help: string): Command {
  return (argv) => {
    process.stdout.write(`${help}\n`);
    return Promise.resolve(argv[0] === '--help' || argv[0] === '-h' ? ExitCode.OK : ExitCode.USAGE);
  };
}

const COMMANDS: Readonly<Record<string, Command>> = {
  up,
  vault: group(VAULT_HELP),
  index: group(INDEX_HELP),
  'vault serve': vaultServe,
  'vault audit verify': (argv) => vaultAuditVerify(argv),
  'vault backup': vaultBackup,
  'vault show-key': (argv) => vaultShowKey(argv),
  'index show-key': (argv) => indexShowKey(argv),
  'vault restore': vaultRestore,
  'index serve': (argv) => indexServe(argv),
  capture,
  recall,
  mcp,
  configure,
  status,
  team: (argv) => team(argv),
  'team add': teamAdd,
  'team list': teamList,
  'team remove': teamRemove,
  'team rotate': teamRotate,
  'team invite': teamInvite,
  import: importMemories,
  export: exportMemories,
  loadtest,
  bench: (argv) => bench(argv),
};

/** Longest command name that prefixes argv, so "vault audit verify" wins over "vault". */
function route(argv: readonly string[]): { command: Command; rest: readonly string[] } | undefined {
  for (let words = 3; words >= 1; words--) {
    const command = COMMANDS[argv.slice(0, words).join(' ')];
    if (command !== undefined) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${MAIN_HELP}\n`);
    return argv.length === 0 ? ExitCode.USAGE : ExitCode.OK;
  }
  const routed = route(argv);
  if (routed === undefined) {
    process.stderr.write(`rune: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${MAIN_HELP}\n`);
    return ExitCode.USAGE;
  }
  try {
    return await routed.command(routed.rest, env);
  } catch (err: unknown) {
    return report(err);
  }
}

/** One line saying what failed (with its stable code), then how to fix it; no stack unless RUNE_DEBUG. */
function report(err: unknown): number {
  if (process.env.RUNE_DEBUG === '1')
    process.stderr.write(`${err instanceof Error ? (err.stack ?? '') : String(err)}\n`);
  if (err instanceof CliError) {
    process.stderr.write(`rune: ${err.message}${err.code === 'USAGE' ? '' : ` [${err.code}]`}\n`);
    if (err.hint !== undefined) process.stderr.write(`hint: ${err.hint}\n`);
    return err.exitCode;
  }
  const code = codeOf(err);
  const hint = hintOf(err);
  process.stderr.write(
    `rune: ${err instanceof Error ? err.message : String(err)}${code === undefined ? '' : ` [${code}]`}\n`,
  );
  if (hint !== undefined) process.stderr.write(`hint: ${hint}\n`);
  return ExitCode.FAILURE;
}

function codeOf(err: unknown): string | undefined {
  if (isCryptoError(err)) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function hintOf(err: unknown): string | undefined {
  const hint = (err as { hint?: unknown } | null)?.hint;
  return typeof hint === 'string' ? hint : undefined;
}
