import { homedir } from 'node:os';
import {
  JsonHttpClient,
  type MemberConfig,
  defaultConfigPath,
  fetchPinnedKey,
  readMemberConfig,
} from '@rune/client';
import { CliError } from '../cli-error.js';
import { rawRequest } from '../onboarding/net-probe.js';

/** A member as GET /v1/members lists it (no token material). */
export interface MemberView {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly role: string;
  readonly createdAt: number;
  readonly tokenIssuedAt: number;
  readonly expiresAt?: number;
  readonly revokedAt?: number;
  readonly status: string;
}

export interface AdminVault {
  readonly config: MemberConfig;
  readonly vault: JsonHttpClient;
  close(): void;
}

/**
 * The admin's config and a Vault client carrying the admin's token, after the pinned key checked
 * out: a package built from these pins must carry the team's real key, never an impostor's.
 */
export async function connectAdmin(
  configFlag: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<AdminVault> {
  const path = configFlag ?? defaultConfigPath({ env, platform: process.platform, homedir: homedir() });
  const config = await readMemberConfig(path);
  const vault = new JsonHttpClient({
    service: 'vault',
    baseUrl: config.vaultUrl,
    token: config.token,
    ...(config.caCert === undefined ? {} : { caCert: config.caCert }),
  });
  try {
    await fetchPinnedKey(vault, config);
  } catch (err: unknown) {
    vault.close();
    throw err;
  }
  return {
    config,
    vault,
    close: () => {
      vault.close();
    },
  };
}

export async function listMembers(admin: AdminVault): Promise<MemberView[]> {
  const answer = (await admin.vault.get('/v1/members')) as { members?: unknown };
  if (!Array.isArray(answer.members)) {
    throw new CliError('VAULT_RESPONSE_INVALID', 'the Vault listed members without a members array');
  }
  return answer.members as MemberView[];
}

/** A member by id, or by name or e-mail when exactly one active member has it. */
export async function findMember(admin: AdminVault, who: string): Promise<MemberView> {
  const members = await listMembers(admin);
  const byId = members.find((m) => m.id === who);
  if (byId !== undefined) return byId;
  const matches = members.filter((m) => m.status === 'active' && (m.name === who || m.email === who));
  if (matches.length === 1 && matches[0] !== undefined) return matches[0];
  if (matches.length > 1) {
    throw new CliError('MEMBER_AMBIGUOUS', `${matches.length} active members are named "${who}"`, {
      hint: `use the member id instead: ${matches.map((m) => m.id).join(', ')}`,
    });
  }
  throw new CliError('MEMBER_NOT_FOUND', `no active member with id, name or e-mail "${who}"`, {
    hint: 'list the team with rune team list',
  });
}

export interface Issued {
  readonly member: MemberView;
  readonly token: string;
}

export function isIssued(value: unknown): value is Issued {
  const v = value as { member?: { id?: unknown }; token?: unknown } | null;
  return typeof v?.token === 'string' && typeof v.member?.id === 'string';
}

/** DELETE /v1/members/:id (JsonHttpClient speaks GET and POST only). */
export async function revokeMember(admin: AdminVault, id: string): Promise<void> {
  const url = admin.vault.urlOf(`/v1/members/${encodeURIComponent(id)}`);
  const answer = await rawRequest('DELETE', url, {
    token: admin.config.token,
    ...(admin.config.caCert === undefined ? {} : { caCert: admin.config.caCert }),
  });
  if (answer.status === 200) return;
  const error = (answer.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : 'VAULT_RESPONSE_INVALID';
  throw new CliError(code, `the Vault refused to revoke ${id} (HTTP ${answer.status})`, {
    hint:
      answer.status === 403 || answer.status === 401
        ? 'revoking needs an admin member config (--config FILE)'
        : 'list the team with rune team list',
  });
}
