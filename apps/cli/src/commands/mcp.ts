import { homedir } from 'node:os';
import { defaultConfigPath, defaultStateDir } from '@rune/client';
import { isLoopbackHost } from '@rune/tls';
import { flag, listOpt, parse, portOpt, stringOpt } from '../args.js';
import { usageError } from '../cli-error.js';
import { CONFIG_HELP } from '../member.js';

export const MCP_HELP = `rune mcp — the MCP server agents talk to (capture, batch_capture, recall, history, forget, status)

Usage: rune mcp [--config FILE] [--allow-emails]
       rune mcp --http --port N [--host 127.0.0.1] [--allowed-host NAME]...

  (default)            stdio: one member, the one of the member config; stdout carries only MCP
  --http               Streamable HTTP on http://HOST:PORT/mcp, stateless; each caller sends its
                       member token as "Authorization: Bearer rune_…"
  --port N             HTTP port (0 = any free port; required with --http)
  --host HOST          loopback address to listen on (default 127.0.0.1); plain HTTP, so put a
                       TLS proxy in front for other machines
  --allowed-host NAME  a Host/Origin name accepted besides loopback ones (the proxy's), repeatable
  --allow-emails       keep e-mail addresses in memories (the team allows them; also
                       RUNE_ALLOW_EMAILS=1); other secrets are always redacted
${CONFIG_HELP}

It starts without a member config and says how to fix that through every tool (status first).
Logs go to stderr. The local capture log and the team term counts live in Rune's state
directory: RUNE_STATE_DIR, else $XDG_STATE_HOME/rune, else ~/.local/state/rune
(history.jsonl; RUNE_HISTORY names another file).

Examples:
  claude mcp add --scope user rune -- rune mcp
  rune mcp --http --port 8765 --allowed-host rune.example.com`;

export async function mcp(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parse('mcp', argv, {
    config: { type: 'string' },
    http: { type: 'boolean' },
    port: { type: 'string' },
    host: { type: 'string' },
    'allowed-host': { type: 'string', multiple: true },
    'allow-emails': { type: 'boolean' },
  });
  if (parsed.values.help === true) {
    process.stdout.write(`${MCP_HELP}\n`);
    return 0;
  }
  if (parsed.positionals.length > 0)
    throw usageError(`mcp: unexpected argument "${parsed.positionals.join(' ')}"`);
  const isHttp = flag(parsed, 'http');
  if (!isHttp && (stringOpt(parsed, 'port') !== undefined || stringOpt(parsed, 'host') !== undefined)) {
    throw usageError('mcp: --port and --host need --http', 'rune mcp --http --port 8765');
  }
  if (isHttp && stringOpt(parsed, 'port') === undefined) {
    throw usageError('mcp: --http needs --port N (0 for any free port)', 'rune mcp --http --port 8765');
  }
  const host = stringOpt(parsed, 'host') ?? '127.0.0.1';
  // SECURITY: bearer tokens travel in these requests; plain HTTP stays on this machine.
  if (isHttp && !isLoopbackHost(host)) {
    throw usageError(
      `mcp: refusing plain HTTP on ${host}; it would carry member tokens unencrypted`,
      'listen on 127.0.0.1 and put a TLS reverse proxy in front (pass its name with --allowed-host)',
    );
  }
  const allowEmails = flag(parsed, 'allow-emails') || /^(1|true|yes|on)$/i.test(env.RUNE_ALLOW_EMAILS ?? '');
  const configPath =
    stringOpt(parsed, 'config') ?? defaultConfigPath({ env, platform: process.platform, homedir: homedir() });
  // Loaded here, not at the top: the other commands need neither the MCP SDK nor this start-up cost.
  const { defaultHistoryPath, runHttp, runStdio } = await import('@rune/mcp');
  const stateDir = defaultStateDir({ env, platform: process.platform, homedir: homedir() });
  const options = {
    configPath,
    stateDir,
    historyPath: defaultHistoryPath(env, stateDir),
    allowEmails,
    log: (message: string) => {
      process.stderr.write(`rune mcp: ${message}\n`);
    },
  };
  if (!isHttp) {
    await runStdio(options);
    return 0;
  }
  const running = await runHttp(options, {
    host,
    port: portOpt(parsed, 'mcp', 'port', 0),
    allowedHosts: listOpt(parsed, 'allowed-host'),
  });
  // Not protocol (that is HTTP here): one JSON line for scripts and tests, as `rune up` prints.
  process.stdout.write(`${JSON.stringify({ service: 'rune-mcp', url: running.url, config: configPath })}\n`);
  options.log(`serving Streamable HTTP on ${running.url}`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await running.close();
  return 0;
}
