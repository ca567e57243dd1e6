import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureIndexIdentity } from '@rune/index';
import { PUBLISHED_KEY_FILE_NAME } from '@rune/vault';
import { flag, parse, requiredOpt } from '../args.js';
import { CliError } from '../cli-error.js';

export const VAULT_SHOW_KEY_HELP = `rune vault show-key — print the Vault's published public key record

Usage: rune vault show-key --data-dir DIR [--json]

Prints publicKeyHash and keyId, the two values every member config pins, and vaultVerifyKey,
which indexes trust (rune index serve --vault-key). Reads DIR/published-key.json; no KEK needed.

Example:
  rune vault show-key --data-dir /var/lib/rune/vault`;

export const INDEX_SHOW_KEY_HELP = `rune index show-key — print (creating on first use) the index's signing key

Usage: rune index show-key --data-dir DIR [--json]

The key the Vault must trust (rune vault serve --index-key KEY). Creating it here first lets a
Vault and an index that run apart be started in either order.

Example:
  rune index show-key --data-dir /var/lib/rune/index`;

export async function vaultShowKey(argv: readonly string[]): Promise<number> {
  const parsed = parse('vault show-key', argv, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } });
  if (parsed.values.help === true) {
    process.stdout.write(`${VAULT_SHOW_KEY_HELP}\n`);
    return 0;
  }
  const path = join(requiredOpt(parsed, 'vault show-key', 'data-dir'), PUBLISHED_KEY_FILE_NAME);
  let published: { publicKeyHash?: unknown; keyId?: unknown; vaultVerifyKey?: unknown };
  try {
    published = JSON.parse(await readFile(path, 'utf8')) as typeof published;
  } catch (err: unknown) {
    throw new CliError('PUBLISHED_KEY_UNREADABLE', `cannot read ${path}`, {
      hint: 'the Vault writes it on every start; start it once with rune vault serve',
      cause: err,
    });
  }
  const { publicKeyHash, keyId, vaultVerifyKey } = published;
  if (flag(parsed, 'json'))
    process.stdout.write(`${JSON.stringify({ publicKeyHash, keyId, vaultVerifyKey })}\n`);
  else {
    process.stdout.write(
      `publicKeyHash  ${String(publicKeyHash)}\nkeyId          ${String(keyId)}\nvaultVerifyKey ${String(vaultVerifyKey)}\n`,
    );
  }
  return 0;
}

export async function indexShowKey(argv: readonly string[]): Promise<number> {
  const parsed = parse('index show-key', argv, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } });
  if (parsed.values.help === true) {
    process.stdout.write(`${INDEX_SHOW_KEY_HELP}\n`);
    return 0;
  }
  const identity = await ensureIndexIdentity(requiredOpt(parsed, 'index show-key', 'data-dir'));
  if (flag(parsed, 'json')) process.stdout.write(`${JSON.stringify({ publicKey: identity.publicKey })}\n`);
  else process.stdout.write(`${identity.publicKey}\n`);
  return 0;
}
