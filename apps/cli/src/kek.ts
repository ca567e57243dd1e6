import { join } from 'node:path';
import { type Kek, kekFromSources } from '@rune/vault';
import { type Parsed, stringOpt } from './args.js';
import { usageError } from './cli-error.js';

export const KEK_HELP = `  --kek-file FILE        passphrase file (mode 0600) that seals the secret key at rest
  --kek-env NAME         environment variable holding that passphrase
  --kek-credential NAME  systemd credential (LoadCredential=) holding it`;

/**
 * The key-encryption key from exactly one source. A systemd credential is a file the service
 * manager provides under $CREDENTIALS_DIRECTORY, never in the environment or the unit file.
 */
export function resolveKek(parsed: Parsed, command: string, env: NodeJS.ProcessEnv): Kek {
  const file = stringOpt(parsed, 'kek-file');
  const envVar = stringOpt(parsed, 'kek-env');
  const credential = stringOpt(parsed, 'kek-credential');
  const given = [file, envVar, credential].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw usageError(
      `${command}: give exactly one of --kek-file, --kek-env or --kek-credential`,
      'the passphrase seals the Vault secret key at rest; keep it out of the data directory',
    );
  }
  if (credential !== undefined) {
    const dir = env.CREDENTIALS_DIRECTORY;
    if (dir === undefined || dir === '') {
      throw usageError(
        `${command}: --kek-credential needs $CREDENTIALS_DIRECTORY (set by systemd LoadCredential=)`,
      );
    }
    if (!/^[A-Za-z0-9_.-]+$/.test(credential))
      throw usageError(`${command}: bad credential name "${credential}"`);
    return kekFromSources({ passphraseFile: join(dir, credential), env });
  }
  return kekFromSources({ passphraseFile: file, envVar, env });
}
