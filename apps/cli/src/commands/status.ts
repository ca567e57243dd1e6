import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import {
  type MemberConfig,
  defaultConfigPath,
  isRuneClientError,
  readMemberConfig,
  toJsonPath,
} from '@rune/client';
import { flag, parse, stringOpt } from '../args.js';
import { ExitCode } from '../cli-error.js';
import { CONFIG_HELP } from '../member.js';
import { type Check, fail, hasFailure, ok, skip } from '../onboarding/checks.js';
import { diagnoseConnection } from '../onboarding/diagnose.js';
import { renderChecks } from '../ui/checks-view.js';
import { isColourEnabled, palette } from '../ui/tty.js';

export const STATUS_HELP = `rune status — check this machine's Rune setup end to end, with a fix for each problem

Usage: rune status [--json]

Checks, in order: the member config (found, valid, readable by you only), the Vault (DNS, TCP, TLS,
latency, token), the clock against the Vault's, the pinned public key, the index (reachable, has the
team's index) and the embedder against the index's. Stops a branch at its first failure.

  --json   print the checks as JSON: { ok, configPath, checks: [{ id, status, message, code?, fix?, ms? }] }
${CONFIG_HELP}

Exit status: 0 when nothing failed, 1 when something did.

Examples:
  rune status
  rune status --json | jq '.checks[] | select(.status != "ok")'`;

export async function status(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parse('status', argv, { config: { type: 'string' }, json: { type: 'boolean' } });
  if (parsed.values.help === true) {
    process.stdout.write(`${STATUS_HELP}\n`);
    return ExitCode.OK;
  }
  const path =
    stringOpt(parsed, 'config') ?? defaultConfigPath({ env, platform: process.platform, homedir: homedir() });
  const checks: Check[] = [];
  const config = await configChecks(path, checks);
  if (config !== undefined) checks.push(...(await diagnoseConnection(config)));
  const isOk = !hasFailure(checks);
  if (flag(parsed, 'json')) {
    process.stdout.write(`${JSON.stringify({ ok: isOk, configPath: toJsonPath(path), checks })}\n`);
  } else {
    const colours = palette(isColourEnabled(process.stdout, env));
    process.stdout.write(renderChecks(checks, colours));
    process.stdout.write(
      isOk ? `${colours.ok('all good')}\n` : `${colours.bad('problems found: see the fixes above')}\n`,
    );
  }
  return isOk ? ExitCode.OK : ExitCode.FAILURE;
}

/** Appends the config checks; the config when it is usable. */
async function configChecks(path: string, checks: Check[]): Promise<MemberConfig | undefined> {
  let config: MemberConfig;
  try {
    config = await readMemberConfig(path);
  } catch (err: unknown) {
    const code = isRuneClientError(err) ? err.code : 'CONFIG_CORRUPT';
    const message = err instanceof Error ? err.message : String(err);
    const fix = isRuneClientError(err) && err.hint !== undefined ? err.hint : 'run rune configure';
    checks.push(fail(code === 'CONFIG_NOT_FOUND' ? 'config.found' : 'config.valid', code, message, fix));
    return undefined;
  }
  checks.push(
    ok('config.found', path),
    ok('config.valid', `member ${config.name ?? config.memberId ?? '(unnamed)'}, index "${config.indexId}"`),
  );
  if (process.platform === 'win32') {
    checks.push(skip('config.mode', 'Windows: access is set by the ACL rune configure writes'));
  } else {
    const mode = (await stat(path)).mode & 0o777;
    checks.push(
      (mode & 0o077) === 0
        ? ok('config.mode', `mode ${mode.toString(8).padStart(4, '0')}`)
        : fail(
            'config.mode',
            'CONFIG_MODE_OPEN',
            `mode ${mode.toString(8).padStart(4, '0')}: other users can read your token`,
            `chmod 600 '${path}'`,
          ),
    );
  }
  return config;
}
