import { JsonHttpClient, type MemberConfig, fetchPinnedKey, isRuneClientError } from '@rune/client';
import { type Check, fail, ok, skip } from './checks.js';
import { probeTransport, rawGet } from './net-probe.js';

/** Past this, the Vault's signed tickets and permits may look expired or not yet valid. */
export const MAX_CLOCK_SKEW_MS = 30_000;

export type ConnectionTarget = Pick<
  MemberConfig,
  'vaultUrl' | 'indexUrl' | 'indexId' | 'token' | 'publicKeyHash' | 'vaultKeyId' | 'caCert' | 'embedder'
>;

export interface DiagnoseOptions {
  /** Wall clock, ms since the epoch (compared with the Vault's Date header). */
  readonly now?: () => number;
}

function under(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  return url;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Walks the path a recall takes, layer by layer, and names the first thing that breaks: DNS, TCP,
 * TLS, the token, clock skew, the pinned key, the index and its embedder. Never throws.
 */
export async function diagnoseConnection(
  target: ConnectionTarget,
  options: DiagnoseOptions = {},
): Promise<Check[]> {
  const now = options.now ?? Date.now;
  const ca = target.caCert === undefined ? {} : { caCert: target.caCert };
  const checks: Check[] = [];
  const vaultTransport = await probeTransport({ name: 'vault', url: new URL(target.vaultUrl), ...ca });
  checks.push(...vaultTransport);
  if (vaultTransport.some((c) => c.status === 'fail')) return checks;

  try {
    const sentMs = now();
    const answer = await rawGet(under(target.vaultUrl, '/v1/keys/public'), { token: target.token, ...ca });
    checks.push(...tokenChecks(answer.status, answer.json, answer.ms));
    checks.push(clockCheck(answer.headers.date, sentMs + answer.ms / 2));
  } catch (err: unknown) {
    checks.push(
      fail(
        'vault.http',
        'VAULT_UNREACHABLE',
        `the Vault did not answer (${errText(err)})`,
        'retry; check the Vault logs',
      ),
    );
  }
  if (checks.some((c) => c.status === 'fail')) return checks;
  checks.push(await pinCheck(target));

  const indexTransport = await probeTransport({ name: 'index', url: new URL(target.indexUrl), ...ca });
  checks.push(...indexTransport);
  if (indexTransport.some((c) => c.status === 'fail')) return checks;
  checks.push(...(await indexChecks(target)));
  return checks;
}

function tokenChecks(status: number, json: unknown, ms: number): Check[] {
  if (status === 200) {
    return [
      ok('vault.http', `the Vault answered in ${Math.round(ms)} ms`, ms),
      ok('vault.token', 'token accepted'),
    ];
  }
  const code = (json as { error?: { code?: unknown } } | undefined)?.error?.code;
  if (status === 401 || status === 403) {
    return [
      ok('vault.http', `the Vault answered in ${Math.round(ms)} ms`, ms),
      fail(
        'vault.token',
        'TOKEN_REFUSED',
        `the Vault refused the token (HTTP ${status}${typeof code === 'string' ? `, ${code}` : ''})`,
        'the token is wrong, revoked, rotated or expired: ask your admin for a new one (rune team rotate NAME) or a new package',
      ),
    ];
  }
  return [
    fail(
      'vault.http',
      'VAULT_RESPONSE_INVALID',
      `unexpected answer HTTP ${status} from the Vault URL`,
      'check the Vault URL points at a Rune Vault (and any reverse-proxy path prefix)',
    ),
  ];
}

/** `date` has one-second resolution; the midpoint of the request is the best local estimate. */
export function clockCheck(dateHeader: string | undefined, localMidMs: number): Check {
  const serverMs = dateHeader === undefined ? Number.NaN : Date.parse(dateHeader);
  if (Number.isNaN(serverMs)) return skip('clock.skew', 'the Vault sent no Date header');
  const skewMs = localMidMs - serverMs;
  const seconds = Math.round(skewMs / 1000);
  if (Math.abs(skewMs) <= MAX_CLOCK_SKEW_MS + 1000) {
    return ok('clock.skew', `clock within ${Math.max(1, Math.abs(seconds))} s of the Vault's`);
  }
  return fail(
    'clock.skew',
    'CLOCK_SKEW',
    `this machine's clock is ${Math.abs(seconds)} s ${skewMs > 0 ? 'ahead of' : 'behind'} the Vault's`,
    'turn on network time: macOS System Settings > Date & Time; Linux `sudo timedatectl set-ntp true`; Windows `w32tm /resync`',
  );
}

async function pinCheck(target: ConnectionTarget): Promise<Check> {
  const vault = new JsonHttpClient({
    service: 'vault',
    baseUrl: target.vaultUrl,
    token: target.token,
    ...(target.caCert === undefined ? {} : { caCert: target.caCert }),
  });
  try {
    await fetchPinnedKey(vault, target);
    return ok(
      'vault.key-pin',
      `the Vault's public key matches the pinned hash ${target.publicKeyHash.slice(0, 12)}…`,
    );
  } catch (err: unknown) {
    const code = isRuneClientError(err) ? err.code : 'PUBLISHED_KEY_INVALID';
    return fail(
      'vault.key-pin',
      code === 'KEY_PIN_MISMATCH' ? 'KEY_PIN_MISMATCH' : 'PUBLISHED_KEY_INVALID',
      errText(err),
      code === 'KEY_PIN_MISMATCH'
        ? 'do not use this connection: compare publicKeyHash and vaultKeyId with `rune vault show-key` on the Vault, with your admin'
        : 'check the Vault URL points at your team Vault; tell your admin',
    );
  } finally {
    vault.close();
  }
}

async function indexChecks(target: ConnectionTarget): Promise<Check[]> {
  const ca = target.caCert === undefined ? {} : { caCert: target.caCert };
  let answer;
  try {
    // SECURITY: no token; the index never sees a Vault credential.
    answer = await rawGet(under(target.indexUrl, `/v1/indexes/${encodeURIComponent(target.indexId)}`), ca);
  } catch (err: unknown) {
    return [
      fail(
        'index.http',
        'INDEX_UNREACHABLE',
        `the index did not answer (${errText(err)})`,
        'retry; check the index logs',
      ),
    ];
  }
  if (answer.status === 404) {
    return [
      fail(
        'index.http',
        'INDEX_NOT_FOUND',
        `the index service has no index "${target.indexId}"`,
        'check indexId in the config with your admin (rune up creates "team")',
      ),
    ];
  }
  if (answer.status !== 200) {
    return [
      fail(
        'index.http',
        'INDEX_RESPONSE_INVALID',
        `unexpected answer HTTP ${answer.status} from the index URL`,
        'check the index URL points at a Rune index',
      ),
    ];
  }
  const checks = [
    ok('index.http', `index "${target.indexId}" answered in ${Math.round(answer.ms)} ms`, answer.ms),
  ];
  const described = answer.json as { embedderId?: unknown; dim?: unknown } | undefined;
  if (target.embedder === undefined || typeof described?.embedderId !== 'string') {
    checks.push(skip('index.embedder', 'no embedder named to compare'));
  } else if (described.embedderId !== target.embedder.id || described.dim !== target.embedder.dim) {
    checks.push(
      fail(
        'index.embedder',
        'EMBEDDER_MISMATCH',
        `the index was built with "${described.embedderId}" (dim ${String(described.dim)}), the config names "${target.embedder.id}" (dim ${target.embedder.dim})`,
        'use the embedder the index was created with (ask your admin for the config), or a new index',
      ),
    );
  } else {
    checks.push(
      ok('index.embedder', `embedder ${target.embedder.id} (dim ${target.embedder.dim}) matches the index`),
    );
  }
  return checks;
}
