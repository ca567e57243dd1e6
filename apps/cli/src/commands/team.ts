import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toJsonPath } from '@rune/client';
import { writeFileAtomic } from '@rune/runtime';
import { flag, intOpt, parse, requiredOpt, stringOpt } from '../args.js';
import { CliError, ExitCode, usageError } from '../cli-error.js';
import { CONFIG_HELP } from '../member.js';
import { buildMemberPackage, packageBaseName } from '../onboarding/member-package.js';
import { TARGET_OS, type TargetOs, isTargetOs } from '../onboarding/os-target.js';
import type { PackageConfig } from '../onboarding/package-config.js';
import {
  type AdminVault,
  connectAdmin,
  findMember,
  isIssued,
  listMembers,
  revokeMember,
} from '../team/admin-vault.js';

export const TEAM_HELP = `rune team — manage the members of your team's Vault (needs an admin's member config)

Usage: rune team <add|list|remove|rotate|invite> [options]     (rune team <command> --help)

  add      create a member and build their setup package (zip)
  list     the members, their roles and status (--json)
  remove   revoke a member's token (the audit log keeps their name)
  rotate   issue a member a new token; the old one stops working at once
  invite   a one-time invitation code for a new member

Examples:
  rune team add --name alice --email alice@example.com --os macos --out ./packages
  rune team list --json
  rune team rotate alice --os linux --out ./packages
  rune team remove alice`;

export const TEAM_ADD_HELP = `rune team add — create a member and build DIR/<name>_rune_package.zip

Usage: rune team add --name NAME --email EMAIL --os macos|linux|windows --out DIR [options]

  --name NAME        the member's name (also the package's file name)
  --email EMAIL      the member's e-mail (unique in the team)
  --os OS            macos or linux (setup.sh) or windows (setup.ps1)
  --role ROLE        admin, member (default), reader, or a custom role
  --out DIR          where the zip goes (created, mode 0700)
  --invitation       put a one-time invitation in the package instead of a token: the member is
                     created when they run setup, and a leaked package is worthless once used
  --ttl-hours N      how long the invitation can be used (default 72, at most 720)
  --tarball FILE     an npm tarball of Rune (npm pack) to ship inside; setup installs it
  --json             print the outcome as JSON
${CONFIG_HELP}

The package holds the member's config (mode 0600 in the zip; a credential), setup.sh or setup.ps1
(install Rune, save the config, test the Vault, register the MCP server with Claude Code, Gemini CLI
or Codex) and a README. Every member gets their own token or invitation: never a shared one.
Send it only over an encrypted channel.

Examples:
  rune team add --name alice --email alice@example.com --os macos --out ./packages
  rune team add --name bob --email bob@example.com --os windows --role reader --invitation --out ./packages`;

const LIST_HELP = `rune team list — the team's members

Usage: rune team list [--json] [--all]

  --all    include revoked and expired members
  --json   print the members as JSON
${CONFIG_HELP}

Example:
  rune team list --json`;

const REMOVE_HELP = `rune team remove — revoke a member (by id, name or e-mail)

Usage: rune team remove MEMBER [--json]
${CONFIG_HELP}

Example:
  rune team remove alice@example.com`;

const ROTATE_HELP = `rune team rotate — a new token for a member; the old one stops working at once

Usage: rune team rotate MEMBER [--os OS --out DIR] [--json]

  --os OS, --out DIR   build a new package for the member (otherwise the token is printed once)
  --json               print the outcome as JSON (the token included when no package is built)
${CONFIG_HELP}

Example:
  rune team rotate alice --os linux --out ./packages`;

const INVITE_HELP = `rune team invite — a one-time invitation code

Usage: rune team invite [--role member] [--ttl-hours 72] [--json]

The code is shown once; the new member runs
  rune configure --vault-url … --index-url … --key-hash … --vault-key-id … --invitation CODE --name NAME --email EMAIL
(rune team add --invitation builds a package with all of that in it instead).
${CONFIG_HELP}

Example:
  rune team invite --role reader --ttl-hours 24`;

type Sub = (argv: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>;

function help(text: string): number {
  process.stdout.write(`${text}\n`);
  return ExitCode.OK;
}

/** `rune team` alone, or with --help, or with an unknown subcommand. */
export function team(argv: readonly string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') return Promise.resolve(help(TEAM_HELP));
  return Promise.reject(usageError(`team: unknown command "${argv[0] ?? ''}"`, 'run "rune team --help"'));
}

async function withAdmin<T>(
  configFlag: string | undefined,
  env: NodeJS.ProcessEnv,
  run: (a: AdminVault) => Promise<T>,
): Promise<T> {
  const admin = await connectAdmin(configFlag, env);
  try {
    return await run(admin);
  } finally {
    admin.close();
  }
}

function targetOs(raw: string): TargetOs {
  if (!isTargetOs(raw)) throw usageError(`--os must be one of ${TARGET_OS.join(', ')}, got "${raw}"`);
  return raw;
}

interface PackagePlan {
  readonly out: string;
  readonly os: TargetOs;
  readonly tarball: { readonly name: string; readonly bytes: Uint8Array } | undefined;
}

/** Everything that can fail locally, done before the Vault issues a credential. */
async function planPackage(out: string, os: TargetOs, tarballPath: string | undefined): Promise<PackagePlan> {
  let tarball: PackagePlan['tarball'];
  if (tarballPath !== undefined) {
    try {
      tarball = { name: tarballPath, bytes: await readFile(tarballPath) };
    } catch (err: unknown) {
      throw new CliError('TARBALL_UNREADABLE', `cannot read the Rune tarball ${tarballPath}`, {
        hint: 'make one with `npm pack` in apps/cli, or leave --tarball out to install from the registry',
        cause: err,
      });
    }
  }
  try {
    await mkdir(out, { recursive: true, mode: 0o700 });
  } catch (err: unknown) {
    throw new CliError('PACKAGE_WRITE_FAILED', `cannot create ${out}`, {
      hint: 'choose a writable --out DIR',
      cause: err,
    });
  }
  return { out, os, tarball };
}

async function writePackage(plan: PackagePlan, memberName: string, config: PackageConfig): Promise<string> {
  const zip = await buildMemberPackage({
    memberName,
    os: plan.os,
    config,
    ...(plan.tarball === undefined ? {} : { tarball: plan.tarball }),
  });
  const path = join(plan.out, `${packageBaseName(memberName)}.zip`);
  // SECURITY: the zip carries a credential: owner-only, like the config itself.
  await writeFileAtomic(path, zip);
  return path;
}

/** The admin's config with the admin's identity and token taken out. */
function basePackageConfig(
  admin: AdminVault,
): Omit<PackageConfig, 'token' | 'invitation' | 'name' | 'memberId'> {
  const rest: { -readonly [K in keyof PackageConfig]?: PackageConfig[K] } = { ...admin.config };
  delete rest.token;
  delete rest.name;
  delete rest.memberId;
  return rest as Omit<PackageConfig, 'token' | 'invitation' | 'name' | 'memberId'>;
}

export const teamAdd: Sub = async (argv, env) => {
  const parsed = parse('team add', argv, {
    name: { type: 'string' },
    email: { type: 'string' },
    os: { type: 'string' },
    role: { type: 'string' },
    out: { type: 'string' },
    invitation: { type: 'boolean' },
    'ttl-hours': { type: 'string' },
    tarball: { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (parsed.values.help === true) return help(TEAM_ADD_HELP);
  const name = requiredOpt(parsed, 'team add', 'name');
  const email = requiredOpt(parsed, 'team add', 'email');
  const os = targetOs(requiredOpt(parsed, 'team add', 'os'));
  const out = requiredOpt(parsed, 'team add', 'out');
  const role = stringOpt(parsed, 'role') ?? 'member';
  const isInvitation = flag(parsed, 'invitation');
  const ttlHours = intOpt(parsed, 'team add', 'ttl-hours', 72, 1, 720);
  const plan = await planPackage(out, os, stringOpt(parsed, 'tarball'));
  return withAdmin(stringOpt(parsed, 'config'), env, async (admin) => {
    let config: PackageConfig;
    let memberId: string | undefined;
    if (isInvitation) {
      const answer = (await admin.vault.post('/v1/invitations', { role, ttlMs: ttlHours * 3_600_000 })) as {
        code?: unknown;
      };
      if (typeof answer.code !== 'string') {
        throw new CliError('VAULT_RESPONSE_INVALID', 'the Vault created an invitation without a code');
      }
      config = { ...basePackageConfig(admin), name, email, invitation: answer.code };
    } else {
      const answer: unknown = await admin.vault.post('/v1/members', { name, email, role });
      if (!isIssued(answer))
        throw new CliError('VAULT_RESPONSE_INVALID', 'the Vault added a member without a token');
      memberId = answer.member.id;
      config = { ...basePackageConfig(admin), name, memberId, token: answer.token };
    }
    let path: string;
    try {
      path = await writePackage(plan, name, config);
    } catch (err: unknown) {
      // A token nobody received must not stay valid.
      if (memberId !== undefined) await revokeMember(admin, memberId).catch(() => undefined);
      throw new CliError('PACKAGE_WRITE_FAILED', `could not write the package to ${out}`, {
        hint: `${memberId === undefined ? '' : `${name} was revoked again; `}fix the problem and run the same command`,
        cause: err,
      });
    }
    if (flag(parsed, 'json')) {
      process.stdout.write(
        `${JSON.stringify({ package: toJsonPath(path), name, email, role, os, ...(memberId === undefined ? { invitation: true } : { memberId }) })}\n`,
      );
    } else {
      process.stdout.write(`${path}\n`);
      process.stderr.write(
        `${isInvitation ? `Invitation for ${name} (${role}) valid ${ttlHours} h` : `Added ${name} (${role}) as ${memberId ?? ''}`}.\n` +
          `Send ${path} to ${email} over an encrypted channel only; they unzip it and run ${os === 'windows' ? 'setup.ps1' : 'setup.sh'}.\n`,
      );
    }
    return ExitCode.OK;
  });
};

export const teamList: Sub = async (argv, env) => {
  const parsed = parse('team list', argv, {
    config: { type: 'string' },
    json: { type: 'boolean' },
    all: { type: 'boolean' },
  });
  if (parsed.values.help === true) return help(LIST_HELP);
  return withAdmin(stringOpt(parsed, 'config'), env, async (admin) => {
    const members = (await listMembers(admin)).filter((m) => flag(parsed, 'all') || m.status === 'active');
    if (flag(parsed, 'json')) {
      process.stdout.write(`${JSON.stringify({ members })}\n`);
      return ExitCode.OK;
    }
    if (members.length === 0) process.stdout.write('no members\n');
    const rows = members.map((m) => [
      m.id,
      m.name,
      m.email,
      m.role,
      m.status,
      new Date(m.tokenIssuedAt).toISOString().slice(0, 10),
    ]);
    const header = ['ID', 'NAME', 'EMAIL', 'ROLE', 'STATUS', 'TOKEN ISSUED'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    for (const row of members.length === 0 ? [] : [header, ...rows]) {
      process.stdout.write(
        `${row
          .map((cell, i) => cell.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
      );
    }
    return ExitCode.OK;
  });
};

function oneMember(command: string, positionals: readonly string[]): string {
  const [who, extra] = positionals;
  if (who === undefined || extra !== undefined)
    throw usageError(`${command}: name exactly one MEMBER (id, name or e-mail)`);
  return who;
}

export const teamRemove: Sub = async (argv, env) => {
  const parsed = parse('team remove', argv, { config: { type: 'string' }, json: { type: 'boolean' } });
  if (parsed.values.help === true) return help(REMOVE_HELP);
  const who = oneMember('team remove', parsed.positionals);
  return withAdmin(stringOpt(parsed, 'config'), env, async (admin) => {
    const member = await findMember(admin, who);
    await revokeMember(admin, member.id);
    if (flag(parsed, 'json'))
      process.stdout.write(`${JSON.stringify({ removed: member.id, name: member.name })}\n`);
    else process.stdout.write(`revoked ${member.name} (${member.id}); their token no longer works\n`);
    return ExitCode.OK;
  });
};

export const teamRotate: Sub = async (argv, env) => {
  const parsed = parse('team rotate', argv, {
    os: { type: 'string' },
    out: { type: 'string' },
    tarball: { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (parsed.values.help === true) return help(ROTATE_HELP);
  const who = oneMember('team rotate', parsed.positionals);
  const out = stringOpt(parsed, 'out');
  const osRaw = stringOpt(parsed, 'os');
  if ((out === undefined) !== (osRaw === undefined))
    throw usageError('team rotate: give --os and --out together');
  const os = osRaw === undefined ? undefined : targetOs(osRaw);
  return withAdmin(stringOpt(parsed, 'config'), env, async (admin) => {
    const member = await findMember(admin, who);
    const plan =
      out === undefined || os === undefined
        ? undefined
        : await planPackage(out, os, stringOpt(parsed, 'tarball'));
    const answer: unknown = await admin.vault.post(`/v1/members/${encodeURIComponent(member.id)}/rotate`, {});
    if (!isIssued(answer))
      throw new CliError('VAULT_RESPONSE_INVALID', 'the Vault rotated without a new token');
    if (plan !== undefined) {
      const config: PackageConfig = {
        ...basePackageConfig(admin),
        name: member.name,
        memberId: member.id,
        token: answer.token,
      };
      let path: string;
      try {
        path = await writePackage(plan, member.name, config);
      } catch (err: unknown) {
        // The old token is already dead: losing the new one too would lock the member out.
        process.stdout.write(`${JSON.stringify({ rotated: member.id, token: answer.token })}\n`);
        throw new CliError(
          'PACKAGE_WRITE_FAILED',
          `rotated, but the package could not be written: ${String(err)}`,
          {
            hint: 'the new token is printed above, once: hand it to the member over an encrypted channel',
            cause: err,
          },
        );
      }
      if (flag(parsed, 'json'))
        process.stdout.write(`${JSON.stringify({ rotated: member.id, package: toJsonPath(path) })}\n`);
      else process.stdout.write(`${path}\n`);
      return ExitCode.OK;
    }
    // SECURITY: shown once, on stdout only; it is not kept anywhere.
    if (flag(parsed, 'json'))
      process.stdout.write(`${JSON.stringify({ rotated: member.id, token: answer.token })}\n`);
    else {
      process.stdout.write(`${answer.token}\n`);
      process.stderr.write(
        `New token for ${member.name}; the old one no longer works. Shown once: send it over an encrypted channel.\n`,
      );
    }
    return ExitCode.OK;
  });
};

export const teamInvite: Sub = async (argv, env) => {
  const parsed = parse('team invite', argv, {
    role: { type: 'string' },
    'ttl-hours': { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (parsed.values.help === true) return help(INVITE_HELP);
  const role = stringOpt(parsed, 'role') ?? 'member';
  const ttlHours = intOpt(parsed, 'team invite', 'ttl-hours', 72, 1, 720);
  return withAdmin(stringOpt(parsed, 'config'), env, async (admin) => {
    const answer = (await admin.vault.post('/v1/invitations', { role, ttlMs: ttlHours * 3_600_000 })) as {
      code?: unknown;
      invitation?: { expiresAt?: unknown };
    };
    if (typeof answer.code !== 'string')
      throw new CliError('VAULT_RESPONSE_INVALID', 'the Vault created an invitation without a code');
    const c = admin.config;
    if (flag(parsed, 'json')) {
      process.stdout.write(
        `${JSON.stringify({ code: answer.code, role, expiresAt: answer.invitation?.expiresAt })}\n`,
      );
    } else {
      process.stdout.write(`${answer.code}\n`);
      process.stderr.write(
        `One-time invitation (${role}), valid ${ttlHours} h. The new member runs:\n` +
          `  rune configure --vault-url ${c.vaultUrl} --index-url ${c.indexUrl} --index-id ${c.indexId} \\\n` +
          `    --key-hash ${c.publicKeyHash} --vault-key-id ${c.vaultKeyId} --invitation CODE --name NAME --email EMAIL` +
          `${c.caCert === undefined ? '' : ' --ca-file ca.pem'}\n`,
      );
    }
    return ExitCode.OK;
  });
};
