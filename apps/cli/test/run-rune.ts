import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The real `rune` binary the tests drive. */
export const RUNE_BIN = fileURLToPath(new URL('../bin/rune.js', import.meta.url));

export interface RuneRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RuneRunOptions {
  /** The child's whole environment (nothing is inherited unless passed). */
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Killed with SIGKILL after this (default 60 s). */
  readonly timeoutMs?: number;
  /** Sees the child as soon as it exists (a harness that kills leftovers at exit). */
  readonly onSpawn?: (child: ChildProcess) => void;
}

/** `rune ARGS` as a child process, its output captured; resolves once it has exited. */
export function runRune(args: readonly string[], options: RuneRunOptions): Promise<RuneRun> {
  const child = spawn(process.execPath, [RUNE_BIN, ...args], {
    env: options.env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
