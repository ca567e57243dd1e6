import { readFile } from 'node:fs/promises';
import { MAX_CONFIG_BYTES, type MemberConfig, memberConfigSchema } from '@rune/client';
import { CliError } from '../cli-error.js';

const INVITATION_PATTERN = /^rune_inv_[A-Za-z0-9_-]{43}$/;
/** Stands in for the token while the rest of an invitation config is validated; never written. */
const PLACEHOLDER_TOKEN = `rune_${'A'.repeat(43)}`;

/**
 * What a member package carries: a member config whose token may be replaced by a one-time
 * invitation (redeemed by `rune configure`, so no long-lived token sits in the zip), plus the
 * member's e-mail for that redemption.
 */
export type PackageConfig = Omit<MemberConfig, 'token'> & {
  readonly token?: string;
  readonly invitation?: string;
  readonly email?: string;
};

/** Reads `--from FILE`: a member config or a package's invitation config. */
export async function readPackageConfig(path: string): Promise<PackageConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    throw new CliError('CONFIG_NOT_FOUND', `cannot read ${path}`, {
      hint: 'pass the vault-config.json from your member package',
      cause: err,
    });
  }
  if (text.length > MAX_CONFIG_BYTES) {
    throw new CliError('CONFIG_CORRUPT', `${path} is too large for a member config`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err: unknown) {
    throw new CliError('CONFIG_CORRUPT', `${path} is not valid JSON`, {
      hint: 'take the file from the package again, or ask your admin for a new package',
      cause: err,
    });
  }
  return parsePackageConfig(json, path);
}

/** Validates with the member config schema, the invitation and e-mail taken out first. */
export function parsePackageConfig(json: unknown, path: string): PackageConfig {
  const problems: string[] = [];
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    problems.push('(root): must be an object');
  const { invitation, email, ...rest } = (problems.length === 0 ? json : {}) as Record<string, unknown>;
  if (invitation !== undefined && (typeof invitation !== 'string' || !INVITATION_PATTERN.test(invitation))) {
    problems.push('invitation: must be an invitation code (rune_inv_ followed by 43 characters)');
  }
  if (email !== undefined && (typeof email !== 'string' || email.length < 3 || email.length > 256)) {
    problems.push('email: must be an e-mail address');
  }
  const hasToken = rest.token !== undefined;
  if (!hasToken && invitation === undefined) problems.push('token: a token or an invitation is required');
  const parsed = memberConfigSchema.safeParse(hasToken ? rest : { ...rest, token: PLACEHOLDER_TOKEN });
  if (!parsed.success) {
    problems.push(
      ...parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  if (problems.length > 0 || !parsed.success) {
    throw new CliError('CONFIG_INVALID', `${path} is not a member config: ${problems.join('; ')}`, {
      hint: 'ask your admin for a new package (rune team add)',
    });
  }
  const { token, ...config } = parsed.data;
  return {
    ...config,
    ...(hasToken ? { token } : {}),
    ...(typeof invitation === 'string' ? { invitation } : {}),
    ...(typeof email === 'string' ? { email } : {}),
  };
}
