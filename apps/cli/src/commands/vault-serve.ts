import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeBase64url } from '@rune/protocol';
import { startVault } from '@rune/vault';
import { type Parsed, listOpt, parse, portOpt, requiredOpt, stringOpt } from '../args.js';
import { CliError, usageError } from '../cli-error.js';
import { KEK_HELP, resolveKek } from '../kek.js';
import { runUntilSignal } from '../lifecycle.js';
import { SERVE_HELP, SERVE_OPTIONS, resolveTls } from '../server-options.js';
import { writePrivateFile } from '../private-file.js';

export const VAULT_SERVE_HELP = `rune vault serve — run the Vault (secret key, members, tokens, audit)

Usage: rune vault serve --data-dir DIR --kek-file FILE --index-key KEY [options]

${SERVE_HELP}
${KEK_HELP}
  --index-key KEY        base64url Ed25519 key of a trusted index (repeatable)
  --index-key-file FILE  file holding that key (the index writes index-signing.pub)
  --index-url URL        the index to plant canaries in (strongly recommended)
  --index-ca FILE        CA certificate of that index, when it uses a private CA

On first start the key set is generated and sealed, and when no member exists yet an admin
is created: its token is written once to DIR/bootstrap-admin.token (mode 0600). Read it, store
it in your password manager, and delete the file.

Example:
  rune vault serve --data-dir /var/lib/rune/vault --kek-credential vault-kek \\
    --index-key-file /var/lib/rune/index/index-signing.pub --index-url https://127.0.0.1:50090`;

export const BOOTSTRAP_TOKEN_FILE = 'bootstrap-admin.token';

export async function vaultServe(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parse('vault serve', argv, {
    ...SERVE_OPTIONS,
    'kek-file': { type: 'string' },
    'kek-env': { type: 'string' },
    'kek-credential': { type: 'string' },
    'index-key': { type: 'string', multiple: true },
    'index-key-file': { type: 'string', multiple: true },
    'index-url': { type: 'string' },
    'index-ca': { type: 'string' },
  });
  if (parsed.values.help === true) {
    process.stdout.write(`${VAULT_SERVE_HELP}\n`);
    return 0;
  }
  const dataDir = requiredOpt(parsed, 'vault serve', 'data-dir');
  const kek = resolveKek(parsed, 'vault serve', env);
  const indexVerifyKeys = await indexKeys(parsed);
  const tls = await resolveTls(parsed, 'vault serve', join(dataDir, 'tls'));
  const indexUrl = stringOpt(parsed, 'index-url');
  const indexCa = stringOpt(parsed, 'index-ca');
  const vault = await startVault({
    dataDir,
    host: stringOpt(parsed, 'host') ?? '127.0.0.1',
    port: portOpt(parsed, 'vault serve', 'port', 50080),
    kek,
    indexVerifyKeys,
    ...(tls === undefined ? { allowPlainHttp: true } : { tls }),
    ...(indexUrl === undefined
      ? {}
      : {
          indexLink: {
            url: indexUrl,
            ...(indexCa === undefined ? {} : { ca: await readFile(indexCa, 'utf8') }),
          },
        }),
    bootstrapAdmin: { name: 'admin', email: 'admin@localhost' },
  });
  if (vault.bootstrap !== undefined) {
    const path = join(dataDir, BOOTSTRAP_TOKEN_FILE);
    await writePrivateFile(path, `${vault.bootstrap.token}\n`);
    process.stderr.write(
      `first admin created: its token is in ${path} (read it once, then delete the file)\n`,
    );
  }
  if (indexUrl === undefined) {
    process.stderr.write('warning: no --index-url, so no canaries are planted and none are checked\n');
  }
  process.stdout.write(
    `${JSON.stringify({ service: 'vault', url: vault.url, publicKeyHash: vault.publishedKey.publicKeyHash, keyId: vault.publishedKey.keyId })}\n`,
  );
  return runUntilSignal(() => vault.close());
}

async function indexKeys(parsed: Parsed): Promise<Uint8Array[]> {
  const texts = [...listOpt(parsed, 'index-key')];
  for (const file of listOpt(parsed, 'index-key-file')) {
    try {
      texts.push((await readFile(file, 'utf8')).trim());
    } catch (err: unknown) {
      throw new CliError('INDEX_KEY_UNREADABLE', `cannot read the index key file ${file}`, {
        hint: 'the index writes index-signing.pub into its data directory on first start',
        cause: err,
      });
    }
  }
  if (texts.length === 0) {
    throw usageError(
      'vault serve: give --index-key or --index-key-file',
      'the Vault trusts only results signed by known indexes',
    );
  }
  return texts.map((text) => {
    let key: Uint8Array;
    try {
      key = decodeBase64url(text);
    } catch {
      throw usageError(`vault serve: index key "${text.slice(0, 12)}…" is not base64url`);
    }
    if (key.byteLength !== 32) throw usageError('vault serve: an index key must be 32 bytes (Ed25519)');
    return key;
  });
}
