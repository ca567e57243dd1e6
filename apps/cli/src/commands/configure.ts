import { access, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import {
  JsonHttpClient,
  type MemberConfig,
  defaultConfigPath,
  isRuneClientError,
  memberConfigSchema,
  toJsonPath,
  writeMemberConfig,
} from '@rune/client';
import { flag, parse, stringOpt } from '../args.js';
import { CliError, ExitCode, usageError } from '../cli-error.js';
import { type Check, hasFailure } from '../onboarding/checks.js';
import { diagnoseConnection } from '../onboarding/diagnose.js';
import { probeTransport } from '../onboarding/net-probe.js';
import { type PackageConfig, readPackageConfig } from '../onboarding/package-config.js';
import { openPrompter } from '../onboarding/prompt.js';
import { renderChecks } from '../ui/checks-view.js';
import { isColourEnabled, palette } from '../ui/tty.js';

export const CONFIGURE_HELP = `rune configure — connect this machine to your team's Vault and save the member config

Usage: rune configure --from FILE [--force]
       rune configure --vault-url URL --index-url URL --key-hash HEX --vault-key-id HEX
                      (--token TOKEN | --invitation CODE --name NAME --email EMAIL) [options]

  --from FILE          the vault-config.json of a member package (flags below override it)
  --vault-url URL      the Vault, https:// (http:// only to loopback)
  --index-url URL      the index service
  --index-id ID        the team's index (default "team")
  --token TOKEN        your member token (rune_…); prefer --invitation, or --from a package
  --invitation CODE    a one-time invitation (rune_inv_…), exchanged here for your own token
  --name NAME          your name (with --invitation)
  --email EMAIL        your e-mail (with --invitation)
  --key-hash HEX       the pinned public-key hash (rune vault show-key on the Vault)
  --vault-key-id HEX   the pinned Vault signing key id (rune vault show-key)
  --index-key KEY      the index's receipt key (rune index show-key), optional
  --ca-file FILE       PEM of your team's private CA, when the Vault's certificate is not public
  --config FILE        where to save (default: RUNE_CONFIG, $XDG_CONFIG_HOME/rune/vault-config.json,
                       ~/.config/rune/vault-config.json; Windows %USERPROFILE%\\.config\\rune\\vault-config.json)
  --force              replace an existing config without asking
  --json               print the checks and the outcome as JSON

The connection is tested before anything is saved (DNS, TCP, TLS, token, clock skew, pinned key,
index, embedder); each failure is named with its fix and nothing is written. The config is written
atomically, readable by you only (mode 0600; on Windows an owner-only ACL). On a terminal, missing
values are asked for.

Examples:
  rune configure --from ./alice_rune_package/vault-config.json
  rune configure --vault-url https://vault.example.com --index-url https://index.example.com \\
    --key-hash 3f…e1 --vault-key-id 9a…07 --invitation rune_inv_… --name Alice --email alice@example.com`;

const OPTIONS = {
  from: { type: 'string' },
  'vault-url': { type: 'string' },
  'index-url': { type: 'string' },
  'index-id': { type: 'string' },
  token: { type: 'string' },
  invitation: { type: 'string' },
  name: { type: 'string' },
  email: { type: 'string' },
  'key-hash': { type: 'string' },
  'vault-key-id': { type: 'string' },
  'index-key': { type: 'string' },
  'ca-file': { type: 'string' },
  config: { type: 'string' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export async function configure(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parse('configure', argv, OPTIONS);
  if (parsed.values.help === true) {
    process.stdout.write(`${CONFIGURE_HELP}\n`);
    return ExitCode.OK;
  }
  const isJson = flag(parsed, 'json');
  const from = stringOpt(parsed, 'from');
  const base: Partial<PackageConfig> = from === undefined ? {} : await readPackageConfig(from);
  const values: Record<string, string | undefined> = {};
  for (const key of Object.keys(OPTIONS)) values[key] = stringOpt(parsed, key);
  const isIncomplete =
    ['vault-url', 'index-url', 'key-hash', 'vault-key-id'].some((key) => values[key] === undefined) ||
    (values.token === undefined && values.invitation === undefined);
  // Prompts only on a terminal and only when flags leave something out; scripts get usage errors.
  if (process.stdin.isTTY && !isJson && from === undefined && isIncomplete) {
    Object.assign(values, await askMissing(values));
  }

  const caFile = values['ca-file'];
  const caCert = caFile === undefined ? base.caCert : await readCa(caFile);
  const invitation = values.invitation ?? (values.token === undefined ? base.invitation : undefined);
  const draft = {
    ...base,
    version: 1,
    vaultUrl: values['vault-url'] ?? base.vaultUrl,
    indexUrl: values['index-url'] ?? base.indexUrl,
    indexId: values['index-id'] ?? base.indexId ?? 'team',
    publicKeyHash: values['key-hash'] ?? base.publicKeyHash,
    vaultKeyId: values['vault-key-id'] ?? base.vaultKeyId,
    ...(values['index-key'] === undefined ? {} : { indexVerifyKey: values['index-key'] }),
    ...(caCert === undefined ? {} : { caCert }),
    ...(values.name === undefined ? {} : { name: values.name }),
    token: values.token ?? base.token,
  };
  const email = values.email ?? base.email;
  delete (draft as { invitation?: unknown }).invitation;
  delete (draft as { email?: unknown }).email;
  for (const [flagName, key] of [
    ['vault-url', 'vaultUrl'],
    ['index-url', 'indexUrl'],
    ['key-hash', 'publicKeyHash'],
    ['vault-key-id', 'vaultKeyId'],
  ] as const) {
    if (draft[key] === undefined) throw usageError(`configure: --${flagName} is required (or --from FILE)`);
  }
  if (draft.token === undefined && invitation === undefined) {
    throw usageError('configure: --token or --invitation is required (or --from FILE)');
  }

  const path = values.config ?? defaultConfigPath({ env, platform: process.platform, homedir: homedir() });
  const exists = await access(path).then(
    () => true,
    () => false,
  );
  if (exists && !flag(parsed, 'force')) {
    throw new CliError('CONFIG_EXISTS', `a member config already exists at ${path}`, {
      hint: 'pass --force to replace it, or --config FILE to save elsewhere',
    });
  }

  const checks: Check[] = [];
  let config: MemberConfig;
  if (draft.token !== undefined) {
    config = validate({ ...draft, token: draft.token });
  } else {
    // The code is spent by redemption, so the transport is proven first.
    const pending = validate({ ...draft, token: `rune_${'A'.repeat(43)}` });
    const transport = await probeTransport({
      name: 'vault',
      url: new URL(pending.vaultUrl),
      ...(pending.caCert === undefined ? {} : { caCert: pending.caCert }),
    });
    if (hasFailure(transport)) return finish(transport, path, false, isJson);
    const name = draft.name;
    if (name === undefined || email === undefined) {
      throw usageError('configure: --invitation needs --name and --email (or a package config with both)');
    }
    const issued = await redeem(pending, invitation ?? '', name, email);
    config = { ...pending, token: issued.token, memberId: issued.memberId, name };
  }
  checks.push(...(await diagnoseConnection(config)));
  // A redeemed invitation cannot be redeemed again: keep its token even when a later check fails.
  const isSaved = !hasFailure(checks) || draft.token === undefined;
  if (isSaved) await writeMemberConfig(path, config);
  return finish(checks, path, isSaved, isJson);
}

function finish(checks: readonly Check[], path: string, isSaved: boolean, isJson: boolean): number {
  const isOk = !hasFailure(checks);
  if (isJson) {
    process.stdout.write(
      `${JSON.stringify({ ok: isOk, saved: isSaved, configPath: toJsonPath(path), checks })}\n`,
    );
  } else {
    process.stderr.write(renderChecks(checks, palette(isColourEnabled(process.stderr, process.env))));
    if (isSaved) process.stdout.write(`saved the member config to ${path}\n`);
    else process.stderr.write('nothing was saved: fix the problem above and run rune configure again\n');
    if (isSaved && !isOk) process.stderr.write('saved, but the connection is not healthy yet: see above\n');
  }
  return isOk ? ExitCode.OK : ExitCode.FAILURE;
}

function validate(candidate: unknown): MemberConfig {
  const parsed = memberConfigSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  const detail = parsed.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  throw usageError(`configure: ${detail}`, 'check the values given; run "rune configure --help"');
}

async function readCa(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err: unknown) {
    throw new CliError('CA_FILE_UNREADABLE', `cannot read the CA file ${file}`, {
      hint: 'pass the PEM file of your team CA (rune up keeps it in DATA/tls/ca.pem)',
      cause: err,
    });
  }
}

async function redeem(
  config: MemberConfig,
  code: string,
  name: string,
  email: string,
): Promise<{ token: string; memberId: string }> {
  const vault = new JsonHttpClient({
    service: 'vault',
    baseUrl: config.vaultUrl,
    ...(config.caCert === undefined ? {} : { caCert: config.caCert }),
  });
  try {
    const answer = (await vault.post('/v1/invitations/redeem', { code, name, email })) as {
      token?: unknown;
      member?: { id?: unknown };
    };
    if (typeof answer.token !== 'string' || typeof answer.member?.id !== 'string') {
      throw new CliError('VAULT_RESPONSE_INVALID', 'the Vault answered the redemption without a token');
    }
    return { token: answer.token, memberId: answer.member.id };
  } catch (err: unknown) {
    if (isRuneClientError(err) && (err.status === 401 || err.status === 403)) {
      throw new CliError('INVITATION_REFUSED', 'the Vault refused the invitation code', {
        hint: 'an invitation works once and expires (72 h by default): ask your admin for a new one (rune team invite)',
        cause: err,
      });
    }
    throw err;
  } finally {
    vault.close();
  }
}

async function askMissing(values: Record<string, string | undefined>): Promise<Record<string, string>> {
  const answers: Record<string, string> = {};
  const prompter = openPrompter();
  const ask = async (key: string, question: string, fallback?: string) => {
    if (values[key] !== undefined) return;
    const answer = await prompter.ask(question, fallback);
    if (answer !== undefined && answer !== '') answers[key] = answer;
  };
  try {
    await ask('vault-url', 'Vault URL (https://…)');
    await ask('index-url', 'Index URL (https://…)');
    await ask('index-id', 'Index id', 'team');
    await ask('key-hash', 'Pinned public-key hash (from your admin)');
    await ask('vault-key-id', 'Pinned Vault key id (from your admin)');
    if (values.token === undefined)
      await ask('invitation', 'Invitation code (rune_inv_…; empty to enter a token)');
    if ((answers.invitation ?? values.invitation) === undefined) await ask('token', 'Member token (rune_…)');
    else {
      await ask('name', 'Your name');
      await ask('email', 'Your e-mail');
    }
    await ask('ca-file', 'CA file (empty for a public CA)');
  } finally {
    prompter.close();
  }
  return answers;
}
