import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { RuneClientError, RuneClientErrorCode, codeOf } from './errors.js';
import {
  MAX_CONFIG_BYTES,
  describeConfigIssues,
  memberConfigSchema,
  type MemberConfig,
} from './member-config.js';

/** SECURITY: the config holds the member's bearer token: owner read/write only. */
export const CONFIG_FILE_MODE = 0o600;
export const CONFIG_DIR_MODE = 0o700;

const REISSUE_HINT = 'ask your Vault admin for a new member package (rune team add), or run `rune configure`';

/** Reads and validates a member config; every failure names the file and the fix. */
export async function readMemberConfig(path: string): Promise<MemberConfig> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw configError('CONFIG_CORRUPT', path, 'it is not a regular file');
    if (info.size > MAX_CONFIG_BYTES) {
      throw configError('CONFIG_CORRUPT', path, `it is ${info.size} bytes; a member config is a few KiB`);
    }
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    if (err instanceof RuneClientError) throw err;
    if (codeOf(err) === 'ENOENT') {
      throw new RuneClientError(RuneClientErrorCode.CONFIG_NOT_FOUND, `no member config at ${path}`, {
        hint: `run \`rune configure\`, or set RUNE_CONFIG to the config's path; if you have none, ${REISSUE_HINT}`,
        cause: err,
      });
    }
    throw configError('CONFIG_CORRUPT', path, `it cannot be read (${codeOf(err) ?? String(err)})`, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err: unknown) {
    throw configError('CONFIG_CORRUPT', path, 'it is not valid JSON', err);
  }
  const parsed = memberConfigSchema.safeParse(json);
  if (!parsed.success) {
    throw configError('CONFIG_INVALID', path, describeConfigIssues(parsed.error), parsed.error);
  }
  return parsed.data;
}

function configError(
  code: 'CONFIG_CORRUPT' | 'CONFIG_INVALID',
  path: string,
  detail: string,
  cause?: unknown,
): RuneClientError {
  return new RuneClientError(code, `member config ${path} is unusable: ${detail}`, {
    hint: `fix or remove ${path}; ${REISSUE_HINT}`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Writes a member config crash-safely: a temp file beside it (mode 0600, fsynced), renamed over
 * the target, then the directory fsynced; a crash leaves the old config or the new one. Missing
 * directories are created 0700; existing ones are left as they are (RUNE_CONFIG may point anywhere).
 */
export async function writeMemberConfig(
  path: string,
  config: MemberConfig,
  options: WriteConfigOptions = {},
): Promise<void> {
  const parsed = memberConfigSchema.safeParse(config);
  if (!parsed.success) {
    throw new RuneClientError(
      RuneClientErrorCode.CONFIG_INVALID,
      `refusing to write an invalid member config to ${path}: ${describeConfigIssues(parsed.error)}`,
    );
  }
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const bytes = Buffer.from(`${JSON.stringify(parsed.data, null, 2)}\n`, 'utf8');
  try {
    await mkdir(dir, { recursive: true, mode: CONFIG_DIR_MODE });
    const handle = await open(tmp, 'wx', CONFIG_FILE_MODE);
    try {
      // open()'s mode is filtered by the umask; set it exactly.
      await handle.chmod(CONFIG_FILE_MODE);
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // POSIX modes mean nothing on NTFS: the ACL keeps other users out there. Set on the temp
    // file, so the config is never visible under its name with inherited access.
    if ((options.platform ?? process.platform) === 'win32') {
      await (options.restrictToOwner ?? restrictToOwnerWindows)(tmp);
    }
    await rename(tmp, path);
    await syncDirectory(dir);
  } catch (err: unknown) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new RuneClientError(
      RuneClientErrorCode.CONFIG_WRITE_FAILED,
      `could not write the member config to ${path} (${codeOf(err) ?? String(err)})`,
      { hint: `check that ${dir} is writable and the disk has room`, cause: err },
    );
  }
}

export interface WriteConfigOptions {
  /** `process.platform` by default; on win32 the file's ACL is narrowed to its owner. */
  readonly platform?: string;
  /** Replaces the icacls call (tests). */
  readonly restrictToOwner?: (path: string) => Promise<void>;
}

/** icacls arguments that drop inherited entries and grant only `user` full control. */
export function ownerOnlyIcaclsArgs(path: string, user: string): string[] {
  return [path, '/inheritance:r', '/grant:r', `${user}:F`];
}

/** SECURITY: Windows equivalent of mode 0600 — no inherited ACEs, the current user alone. */
async function restrictToOwnerWindows(path: string): Promise<void> {
  const user = process.env.USERNAME ?? userInfo().username;
  await promisify(execFile)('icacls', ownerOnlyIcaclsArgs(path, user), { windowsHide: true });
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err: unknown) {
    // Windows and some filesystems cannot open or fsync a directory; the rename is still atomic.
    const code = codeOf(err);
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  }
}
