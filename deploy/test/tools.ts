import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

/** Runs a program to completion; a program that cannot start reports status null and why. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): CommandResult {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    input: options.input ?? '',
    cwd: options.cwd,
    env: options.env ?? process.env,
    timeout: options.timeoutMs ?? 60_000,
  });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.error === undefined ? result.stderr : `${result.stderr}${result.error.message}`,
  };
}

/** The absolute path of an executable on PATH (plus the sbin directories root has), if any. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Debian packages that provide the tools these tests run (.ci/run installs them). */
export const INSTALL_HINT = {
  shellcheck: 'shellcheck is missing: apt-get install -y shellcheck',
  nginx: 'nginx is missing: apt-get install -y nginx-light (or nginx); the test never starts it',
  openssl: 'openssl is missing: apt-get install -y openssl',
} as const;

/** Terraform's version as [major, minor], or undefined when it is not installed or unreadable. */
export function terraformVersion(terraform: string | undefined): readonly [number, number] | undefined {
  if (terraform === undefined) return undefined;
  const result = run(terraform, ['version', '-json'], { env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
  const match = /"terraform_version":\s*"(\d+)\.(\d+)\./.exec(result.stdout);
  return match === null ? undefined : [Number(match[1]), Number(match[2])];
}

export function atLeast(
  version: readonly [number, number] | undefined,
  major: number,
  minor: number,
): boolean {
  return version !== undefined && (version[0] > major || (version[0] === major && version[1] >= minor));
}
