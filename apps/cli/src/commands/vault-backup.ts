import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { acquireDataDirLock } from '@rune/runtime';
import { backupKeySet, destroyKeySet, kekFromSources, openExistingKeySet, restoreKeySet } from '@rune/vault';
import { type Parsed, flag, parse, requiredOpt, stringOpt } from '../args.js';
import { CliError, usageError } from '../cli-error.js';
import { KEK_HELP, resolveKek } from '../kek.js';

const PASSPHRASE_HELP = `  --passphrase-file FILE  the backup passphrase (a file of mode 0600) ...
  --passphrase-env NAME   ... or an environment variable holding it
                          (weak passphrases are refused: use 5+ random words or 20+ random characters)`;

export const VAULT_BACKUP_HELP = `rune vault backup — write an encrypted copy of the Vault's key set

Usage: rune vault backup --data-dir DIR (KEK option) --out FILE (--passphrase-file F | --passphrase-env NAME)

${KEK_HELP}
${PASSPHRASE_HELP}
  --out FILE              where the backup goes (refuses to overwrite an existing file)

Anyone holding the backup and its passphrase holds the team's secret key: store them apart.

Example:
  rune vault backup --data-dir /var/lib/rune/vault --kek-file /etc/rune/kek --out vault-keys.backup \\
    --passphrase-file ~/backup-passphrase`;

export const VAULT_RESTORE_HELP = `rune vault restore — install a key-set backup into a Vault data directory

Usage: rune vault restore --data-dir DIR (KEK option) --from FILE (--passphrase-file F | --passphrase-env NAME) [--force]

${KEK_HELP}
${PASSPHRASE_HELP}
  --from FILE             the backup written by "rune vault backup"
  --force                 replace an existing key set (its memories become unreadable unless it was backed up)

The restored key set is sealed under the KEK you give. Stop the Vault first.

Example:
  rune vault restore --data-dir /var/lib/rune/vault --kek-env RUNE_KEK --from vault-keys.backup \\
    --passphrase-file ~/backup-passphrase`;

const KEK_AND_PASSPHRASE = {
  'data-dir': { type: 'string' },
  'kek-file': { type: 'string' },
  'kek-env': { type: 'string' },
  'kek-credential': { type: 'string' },
  'passphrase-file': { type: 'string' },
  'passphrase-env': { type: 'string' },
} as const;

export async function vaultBackup(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parse('vault backup', argv, { ...KEK_AND_PASSPHRASE, out: { type: 'string' } });
  if (parsed.values.help === true) {
    process.stdout.write(`${VAULT_BACKUP_HELP}\n`);
    return 0;
  }
  const dataDir = requiredOpt(parsed, 'vault backup', 'data-dir');
  const out = requiredOpt(parsed, 'vault backup', 'out');
  const kek = resolveKek(parsed, 'vault backup', env);
  const passphrase = backupPassphrase(parsed, 'vault backup', env);
  const keySet = await openExistingKeySet(dataDir, kek);
  try {
    const sealed = await backupKeySet(keySet, passphrase);
    try {
      await writeFile(out, sealed, { flag: 'wx', mode: 0o600 });
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new CliError('BACKUP_EXISTS', `${out} already exists`, { hint: 'choose another --out file' });
      }
      throw err;
    }
  } finally {
    destroyKeySet(keySet);
  }
  process.stdout.write(`key set backed up to ${out}\n`);
  return 0;
}

export async function vaultRestore(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parse('vault restore', argv, {
    ...KEK_AND_PASSPHRASE,
    from: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (parsed.values.help === true) {
    process.stdout.write(`${VAULT_RESTORE_HELP}\n`);
    return 0;
  }
  const dataDir = requiredOpt(parsed, 'vault restore', 'data-dir');
  const from = requiredOpt(parsed, 'vault restore', 'from');
  const kek = resolveKek(parsed, 'vault restore', env);
  const passphrase = backupPassphrase(parsed, 'vault restore', env);
  let backup: Uint8Array;
  try {
    backup = await readFile(from);
  } catch (err: unknown) {
    throw new CliError('BACKUP_UNREADABLE', `cannot read the backup ${from}`, { cause: err });
  }
  // A running Vault holds the directory; restoring under it would be overwritten or half-seen.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const lock = await acquireDataDirLock(dataDir);
  try {
    const keySet = await restoreKeySet({ backup, passphrase, dataDir, kek, force: flag(parsed, 'force') });
    destroyKeySet(keySet);
  } finally {
    await lock.release();
  }
  process.stdout.write(`key set restored into ${dataDir}\n`);
  return 0;
}

function backupPassphrase(parsed: Parsed, command: string, env: NodeJS.ProcessEnv): string {
  const file = stringOpt(parsed, 'passphrase-file');
  const envVar = stringOpt(parsed, 'passphrase-env');
  if ((file === undefined) === (envVar === undefined)) {
    throw usageError(`${command}: give exactly one of --passphrase-file or --passphrase-env`);
  }
  // Same rules as a KEK source: one source, not empty, a file only its owner can read.
  return kekFromSources({ passphraseFile: file, envVar, env }).passphrase;
}
