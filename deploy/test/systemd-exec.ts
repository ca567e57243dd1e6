import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unitValues } from './cloud-init-render.js';
import { run } from './tools.js';

/**
 * What systemd would run for a service unit, for the directives Rune's units use: EnvironmentFile=,
 * ExecStartPre= / ExecStart= with `$VAR` word splitting, LoadCredential= ($CREDENTIALS_DIRECTORY),
 * AssertPathExists= and a clean environment with the working directory at /. Sandboxing directives
 * (ProtectSystem=, User= …) need systemd itself; the caller checks User= against who runs it.
 */
export interface ServiceCommand {
  readonly user: string | undefined;
  readonly preStart: readonly (readonly string[])[];
  readonly start: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** Quotes and specifiers are not emulated: a unit using them fails here rather than running differently. */
function words(line: string, env: Readonly<Record<string, string>>): string[] {
  if (/["'%\\]|\$\{/.exec(line) !== null) throw new Error(`unsupported systemd syntax in: ${line}`);
  return line
    .trim()
    .split(/\s+/)
    .flatMap((word) => {
      if (!word.startsWith('$')) return [word];
      const value = env[word.slice(1)];
      if (value === undefined) throw new Error(`${word} is not set by the unit's EnvironmentFile`);
      return value.split(/\s+/).filter((w) => w !== '');
    });
}

/** KEY=value lines, one pair of surrounding double quotes removed (systemd's EnvironmentFile=). */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (match?.[1] === undefined || match[2] === undefined) continue;
    env[match[1]] = match[2].replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/**
 * Resolves a unit into the commands systemd would start; credentials are copied into
 * `credentialsDir` (mode 0700), as systemd copies them into its private credentials directory.
 */
export function serviceCommand(unitText: string, credentialsDir: string): ServiceCommand {
  for (const path of unitValues(unitText, 'AssertPathExists')) {
    if (!existsSync(path)) throw new Error(`AssertPathExists=${path} fails: the unit would not start`);
  }
  const fileEnv: Record<string, string> = {};
  for (const file of unitValues(unitText, 'EnvironmentFile')) {
    const optional = file.startsWith('-');
    const path = optional ? file.slice(1) : file;
    if (optional && !existsSync(path)) continue;
    Object.assign(fileEnv, parseEnvironmentFile(readFileSync(path, 'utf8')));
  }
  const credentials = unitValues(unitText, 'LoadCredential');
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ...fileEnv,
  };
  if (credentials.length > 0) {
    mkdirSync(credentialsDir, { recursive: true, mode: 0o700 });
    for (const credential of credentials) {
      const [name, path] = credential.split(':');
      if (name === undefined || path === undefined) throw new Error(`bad LoadCredential=${credential}`);
      copyFileSync(path, join(credentialsDir, name));
    }
    env.CREDENTIALS_DIRECTORY = credentialsDir;
  }
  const [start] = unitValues(unitText, 'ExecStart');
  if (start === undefined) throw new Error('the unit has no ExecStart=');
  return {
    user: unitValues(unitText, 'User')[0],
    // `+` (run with full privileges) changes nothing for a caller who is not confined.
    preStart: unitValues(unitText, 'ExecStartPre').map((line) => words(line.replace(/^\+/, ''), fileEnv)),
    start: words(start, fileEnv),
    env,
  };
}

export interface StartedService {
  readonly child: ChildProcess;
  /** stdout and stderr so far (the journal). */
  output(): string;
  /** SIGTERM, as `systemctl stop` sends; resolves with the exit code (null: killed by a signal). */
  stop(timeoutMs: number): Promise<number | null>;
}

/** Runs ExecStartPre= to completion, then starts ExecStart= in the background. */
export function startService(command: ServiceCommand): StartedService {
  for (const pre of command.preStart) {
    const [program, ...args] = pre;
    if (program === undefined) throw new Error('empty ExecStartPre=');
    const result = run(program, args, { cwd: '/', env: command.env });
    if (result.status !== 0) throw new Error(`ExecStartPre=${pre.join(' ')} failed: ${result.stderr}`);
  }
  const [program, ...args] = command.start;
  if (program === undefined) throw new Error('empty ExecStart=');
  const child = spawn(program, args, { cwd: '/', env: command.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      resolve(code);
    }),
  );
  return {
    child,
    output: () => output,
    stop: async (timeoutMs) => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
