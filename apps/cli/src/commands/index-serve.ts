import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { startIndex } from '@rune/index';
import { type VerificationKey, decodeBase64url, importVerificationKey } from '@rune/protocol';
import { type Parsed, intOpt, listOpt, parse, portOpt, requiredOpt, stringOpt } from '../args.js';
import { CliError, usageError } from '../cli-error.js';
import { runUntilSignal } from '../lifecycle.js';
import { SERVE_HELP, SERVE_OPTIONS, resolveTls } from '../server-options.js';

export const INDEX_SERVE_HELP = `rune index serve — run an index (stores and scores ciphertexts; holds no secret key)

Usage: rune index serve --data-dir DIR (--vault-key KEY | --vault-published-key FILE) [options]

${SERVE_HELP}
  --vault-key KEY              base64url Ed25519 key of the Vault whose permits and tickets count (repeatable)
  --vault-published-key FILE   the Vault's published-key.json (its vaultVerifyKey is used)
  --threads N                  scoring threads (default: every core)

The index's signing key is created on first start; DIR/index-signing.pub is what the Vault
must trust (--index-key-file). DIR/operator.token authorises index creation.

Example:
  rune index serve --data-dir /var/lib/rune/index --vault-published-key /var/lib/rune/vault/published-key.json`;

export async function indexServe(argv: readonly string[]): Promise<number> {
  const parsed = parse('index serve', argv, {
    ...SERVE_OPTIONS,
    'vault-key': { type: 'string', multiple: true },
    'vault-published-key': { type: 'string', multiple: true },
    threads: { type: 'string' },
  });
  if (parsed.values.help === true) {
    process.stdout.write(`${INDEX_SERVE_HELP}\n`);
    return 0;
  }
  const dataDir = requiredOpt(parsed, 'index serve', 'data-dir');
  const vaultVerifyKeys = await vaultKeys(parsed);
  const tls = await resolveTls(parsed, 'index serve', join(dataDir, 'tls'));
  const threads = intOpt(parsed, 'index serve', 'threads', availableParallelism(), 1, 64);
  const index = await startIndex({
    dataDir,
    host: stringOpt(parsed, 'host') ?? '127.0.0.1',
    port: portOpt(parsed, 'index serve', 'port', 50090),
    vaultVerifyKeys,
    ...(tls === undefined ? { allowPlainHttp: true } : { tls }),
    threads,
  });
  process.stdout.write(
    `${JSON.stringify({ service: 'index', url: index.url, publicKey: index.publicKey })}\n`,
  );
  return runUntilSignal(() => index.close());
}

async function vaultKeys(parsed: Parsed): Promise<VerificationKey[]> {
  const texts = [...listOpt(parsed, 'vault-key')];
  for (const file of listOpt(parsed, 'vault-published-key')) {
    let published: unknown;
    try {
      published = JSON.parse(await readFile(file, 'utf8'));
    } catch (err: unknown) {
      throw new CliError('VAULT_KEY_UNREADABLE', `cannot read the Vault's published key ${file}`, {
        hint: 'copy published-key.json from the Vault data directory',
        cause: err,
      });
    }
    const key = (published as { vaultVerifyKey?: unknown }).vaultVerifyKey;
    if (typeof key !== 'string') throw new CliError('VAULT_KEY_UNREADABLE', `${file} has no vaultVerifyKey`);
    texts.push(key);
  }
  if (texts.length === 0) {
    throw usageError(
      'index serve: give --vault-key or --vault-published-key',
      'the index honours only Vault-signed permits and tickets',
    );
  }
  return texts.map((text) => {
    try {
      return importVerificationKey(decodeBase64url(text));
    } catch {
      throw usageError(`index serve: "${text.slice(0, 12)}…" is not a base64url Ed25519 key`);
    }
  });
}
