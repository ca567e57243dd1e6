import { timingSafeEqual } from 'node:crypto';
import { verifyPublishedKey, type VerifiedPublishedKey } from '@rune/vault/published-key';
import { RuneClientError, codeOf } from './errors.js';
import type { JsonHttpClient } from './http.js';
import type { MemberConfig } from './member-config.js';

export const PUBLISHED_KEY_PATH = '/v1/keys/public';

const PIN_HINT =
  'do not use this connection: something between you and the Vault may be substituting keys. ' +
  'Compare publicKeyHash and vaultKeyId in your member config with `rune vault show-key` on the Vault, with your admin';

/**
 * Fetches the Vault's published EncKey and accepts it only if it matches the member's pins.
 *
 * SECURITY: this is the check that keeps a hostile index or proxy from swapping in its own public
 * key (which would let it decrypt every vector this member uploads). The pinned hash is compared
 * with the hash of the key bytes received, and the signing key with the pinned keyId; the record's
 * own `publicKeyHash` field is never trusted.
 */
export async function fetchPinnedKey(
  vault: JsonHttpClient,
  config: Pick<MemberConfig, 'publicKeyHash' | 'vaultKeyId'>,
): Promise<VerifiedPublishedKey> {
  const published = await vault.get(PUBLISHED_KEY_PATH);
  let verified: VerifiedPublishedKey;
  try {
    verified = verifyPublishedKey(published, config.publicKeyHash, { pinnedVaultKeyId: config.vaultKeyId });
  } catch (err: unknown) {
    // The Vault's own error type; only its stable code is read (no import of the Vault's internals).
    const code = codeOf(err);
    if (code === 'KEY_PIN_MISMATCH') {
      throw new RuneClientError(code, keyRefused(err), { service: 'vault', hint: PIN_HINT, cause: err });
    }
    if (code === 'PUBLISHED_KEY_INVALID' || code === 'INVALID_REQUEST') {
      throw new RuneClientError('PUBLISHED_KEY_INVALID', keyRefused(err), {
        service: 'vault',
        hint: 'check vaultUrl in your member config points at your team Vault; tell your Vault admin',
        cause: err,
      });
    }
    throw err;
  }
  // Belt and braces: the verifier already compared these in constant time.
  if (!sameText(verified.publicKeyHash, config.publicKeyHash)) {
    throw new RuneClientError('KEY_PIN_MISMATCH', 'the published key does not match the pinned hash', {
      service: 'vault',
      hint: PIN_HINT,
    });
  }
  return verified;
}

function keyRefused(err: unknown): string {
  return err instanceof Error ? err.message : 'published key refused';
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase(), 'utf8');
  const y = Buffer.from(b.toLowerCase(), 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
