import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import {
  JsonHttpClient,
  type MemberConfig,
  defaultConfigPath,
  memberConfigSchema,
  readMemberConfig,
} from '@rune/client';
import { CliError, usageError } from '../cli-error.js';

export interface TargetInput {
  readonly configFlag?: string;
  readonly vaultUrlFlag?: string;
  readonly tokenFlag?: string;
  readonly indexUrlFlag?: string;
  readonly indexIdFlag?: string;
  readonly caFileFlag?: string;
  readonly env: NodeJS.ProcessEnv;
}

export interface Target {
  readonly config: MemberConfig;
  /** Where the target came from, for the report: a config path, or "flags". */
  readonly source: string;
}

/** Loopback hosts, as WHATWG URL spells them. */
export function isLoopbackUrl(text: string): boolean {
  let host: string;
  try {
    host = new URL(text).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

function sameOrigin(a: string, b: string): boolean {
  try {
    const ua = new URL(a);
    const ub = new URL(b);
    return ua.origin === ub.origin && ua.pathname.replace(/\/+$/, '') === ub.pathname.replace(/\/+$/, '');
  } catch {
    return false;
  }
}

/**
 * The member config a load test runs as. With a token (--token or VAULT_TOKEN) the target is made
 * from --vault-url/VAULT_URL, --index-url/INDEX_URL, --index-id and --ca; otherwise the member
 * config (--config, RUNE_CONFIG, the standard path).
 *
 * SAFETY: a load test is an attack on whatever it targets, so a non-loopback Vault is never taken
 * from a config file alone: the operator must name it with --vault-url or VAULT_URL.
 */
export async function resolveTarget(input: TargetInput): Promise<Target> {
  const explicitVault = input.vaultUrlFlag ?? nonEmpty(input.env.VAULT_URL);
  const token = input.tokenFlag ?? nonEmpty(input.env.VAULT_TOKEN);
  if (token !== undefined) return targetFromFlags(input, explicitVault, token);

  const path =
    input.configFlag ?? defaultConfigPath({ env: input.env, platform: process.platform, homedir: homedir() });
  const config = await readMemberConfig(path);
  for (const url of [config.vaultUrl, config.indexUrl]) {
    if (isLoopbackUrl(url)) continue;
    if (explicitVault === undefined || !sameOrigin(explicitVault, config.vaultUrl)) {
      throw new CliError(
        'LOADTEST_TARGET_NOT_EXPLICIT',
        `refusing to load-test ${new URL(url).origin}: it comes from ${path}, not from the command line`,
        { hint: `name the Vault explicitly: --vault-url ${config.vaultUrl} (or VAULT_URL)` },
      );
    }
  }
  if (explicitVault !== undefined && !sameOrigin(explicitVault, config.vaultUrl)) {
    throw usageError(
      `loadtest: --vault-url ${explicitVault} differs from the config's ${config.vaultUrl}`,
      'give a token (--token or VAULT_TOKEN) to target another Vault, or drop --vault-url',
    );
  }
  return { config, source: path };
}

async function targetFromFlags(
  input: TargetInput,
  vaultUrl: string | undefined,
  token: string,
): Promise<Target> {
  const indexUrl = input.indexUrlFlag ?? nonEmpty(input.env.INDEX_URL);
  if (vaultUrl === undefined || indexUrl === undefined) {
    throw usageError(
      'loadtest: with a token, give the Vault and index URLs (--vault-url/VAULT_URL, --index-url/INDEX_URL)',
      'or leave the token out to use your member config',
    );
  }
  let caCert: string | undefined;
  if (input.caFileFlag !== undefined) {
    try {
      caCert = await readFile(input.caFileFlag, 'utf8');
    } catch (err: unknown) {
      throw new CliError('LOADTEST_CA_UNREADABLE', `cannot read --ca ${input.caFileFlag}`, {
        hint: 'give the PEM file of the CA that signed the services’ certificates',
        cause: err,
      });
    }
  }
  // The pins come from the Vault itself (trust on first use): RuneClient.connect then checks the
  // key's signature. A load test sends synthetic memories only, so no secret rides on this pin.
  const vault = new JsonHttpClient({
    service: 'vault',
    baseUrl: vaultUrl,
    token,
    ...(caCert === undefined ? {} : { caCert }),
  });
  let published: unknown;
  try {
    published = await vault.get('/v1/keys/public');
  } finally {
    vault.close();
  }
  const { publicKeyHash, keyId } = (published ?? {}) as { publicKeyHash?: unknown; keyId?: unknown };
  const parsed = memberConfigSchema.safeParse({
    version: 1,
    vaultUrl,
    indexUrl,
    indexId: input.indexIdFlag ?? 'team',
    token,
    publicKeyHash,
    vaultKeyId: keyId,
    ...(caCert === undefined ? {} : { caCert }),
  });
  if (!parsed.success) {
    throw usageError(
      `loadtest: the target is not usable: ${parsed.error.issues
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
      'check the URLs (https://, or http:// on loopback), the token and --index-id',
    );
  }
  return { config: parsed.data, source: 'flags' };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
