import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNE_BIN } from './run-rune.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const NODE_DIR = dirname(process.execPath);

export interface UpProcess {
  readonly child: ChildProcess;
  readonly line: { vaultUrl: string; indexUrl: string; memberConfig: string; adminConfig: string };
  stop(): Promise<void>;
}

/** `rune up` as a child with exactly `env` (no RUNE_CONFIG: the standard location under HOME). */
export async function startUp(dataDir: string, env: NodeJS.ProcessEnv): Promise<UpProcess> {
  const child = spawn(
    process.execPath,
    [RUNE_BIN, 'up', '--data-dir', dataDir, '--vault-port', '0', '--index-port', '0'],
    {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const line = await new Promise<UpProcess['line']>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`rune up did not start: ${stderr}`));
    }, 60_000);
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const first = stdout.split('\n')[0];
      if (stdout.includes('\n') && first !== undefined) {
        clearTimeout(timer);
        resolve(JSON.parse(first) as UpProcess['line']);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rune up exited ${String(code)}: ${stderr}`));
    });
  });
  return {
    child,
    line,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A program with exactly `env`; never rejects on a non-zero exit. */
export function run(
  file: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string },
): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { env: options.env, cwd: options.cwd, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Stand-ins for claude, gemini and codex that record their arguments in LOG. */
export async function fakeAgents(dir: string, log: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of ['claude', 'gemini', 'codex']) {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\nprintf '%s %s\\n' ${name} "$*" >> '${log}'\n`);
    await chmod(path, 0o755);
  }
}
