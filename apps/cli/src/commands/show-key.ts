import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureIndexIdentity } from '@rune/index';
import { PUBLISHED_KEY_FILE_NAME } from '@rune/vault';
import { ensureSelfSignedTls } from '@rune/tls';
import { writeFileAtomic } from '@rune/runtime';
import { flag, listOpt, parse, requiredOpt, stringOpt } from '../args.js';
import { CliError, usageError } from '../cli-error.js';

export const VAULT_SHOW_KEY_HELP = `rune vault show-key — print the Vault's published public key record

Usage: rune vault show-key --data-dir DIR [--json]

Prints publicKeyHash and keyId, the two values every member config pins, and vaultVerifyKey,
which indexes trust (rune index serve --vault-key). Reads DIR/published-key.json; no KEK needed.

Example:
  rune vault show-key --data-dir /var/lib/rune/vault`;

export const INDEX_SHOW_KEY_HELP = `rune index show-key — print (creating on first use) the index's signing key

Usage: rune index show-key --data-dir DIR [--ca-out FILE [--tls-host NAME]...] [--json]

The key the Vault must trust (rune vault serve --index-key KEY). Creating it here first lets a
Vault and an index that run apart be started in either order.

  --ca-out FILE     also create (first use) the index's private CA and server certificate, exactly as
                    "rune index serve" would, and write the CA certificate to FILE: the Vault's
                    --index-ca, so it can plant canaries in an index that has not started yet
  --tls-host NAME   a DNS name or IP the index will be reached by (repeatable; as for index serve)

Examples:
  rune index show-key --data-dir /var/lib/rune/index
  rune index show-key --data-dir /var/lib/rune/index --ca-out /var/lib/rune/trust/index-ca.crt --tls-host index`;

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
  const parsed = parse('index show-key', argv, {
    'data-dir': { type: 'string' },
    'ca-out': { type: 'string' },
    'tls-host': { type: 'string', multiple: true },
    json: { type: 'boolean' },
  });
  if (parsed.values.help === true) {
    process.stdout.write(`${INDEX_SHOW_KEY_HELP}\n`);
    return 0;
  }
  const dataDir = requiredOpt(parsed, 'index show-key', 'data-dir');
  const identity = await ensureIndexIdentity(dataDir);
  const caOut = stringOpt(parsed, 'ca-out');
  if (caOut !== undefined) {
    // The same directory and hosts index serve uses, so the CA written here is the one it serves.
    const tls = await ensureSelfSignedTls(join(dataDir, 'tls'), { hosts: listOpt(parsed, 'tls-host') });
    await writeFileAtomic(caOut, new TextEncoder().encode(tls.ca));
  } else if (listOpt(parsed, 'tls-host').length > 0) {
    throw usageError('index show-key: --tls-host only makes sense with --ca-out FILE');
  }
  if (flag(parsed, 'json')) process.stdout.write(`${JSON.stringify({ publicKey: identity.publicKey })}\n`);
  else process.stdout.write(`${identity.publicKey}\n`);
  return 0;
}
