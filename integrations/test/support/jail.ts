import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BRIDGE = fileURLToPath(new URL('./bridge.mjs', import.meta.url));
const DEFAULT_TIMEOUT_MS = 60_000;

export interface JailedRun {
  /** Exit status; null when the jail was killed (timeout). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface JailOptions {
  /** The command's whole environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Loopback ports of servers this test runs, reachable inside the jail on the same port. */
  readonly ports?: readonly number[];
  readonly timeoutMs?: number;
}

/**
 * Runs a command in a fresh network namespace that has only loopback (no route off the machine,
 * whatever the tool tries) and its own PID namespace (every process it leaves behind dies with it).
 * Needs root, like CI. The test's own loopback servers are bridged in through Unix sockets.
 */
export async function runJailed(
  command: string,
  args: readonly string[],
  options: JailOptions,
): Promise<JailedRun> {
  const ports = options.ports ?? [];
  // Short path: a Unix socket path is limited to 107 bytes.
  const socketDir = ports.length === 0 ? undefined : await mkdtemp('/tmp/rj-');
  const servers: Server[] = [];
  try {
    const bridged: string[] = [];
    for (const port of ports) {
      const socket = join(socketDir ?? '', `${port}.sock`);
      servers.push(await serveUnixToTcp(socket, port));
      bridged.push(`${port}=${socket}`);
    }
    const inner =
      ports.length === 0
        ? [command, ...args]
        : [process.execPath, BRIDGE, ...bridged, '--', command, ...args];
    return await run(
      '/usr/bin/unshare',
      [
        '--net',
        '--pid',
        '--fork',
        '--kill-child',
        '--mount-proc',
        'sh',
        '-c',
        'ip link set lo up && exec "$@"',
        'sh',
        ...inner,
      ],
      options,
    );
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    if (socketDir !== undefined) await rm(socketDir, { recursive: true, force: true });
  }
}

function serveUnixToTcp(socket: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((inside) => {
      const outside = connect(port, '127.0.0.1');
      inside.pipe(outside).pipe(inside);
      inside.on('error', () => outside.destroy());
      outside.on('error', () => inside.destroy());
    });
    server.once('error', reject);
    server.listen(socket, () => {
      resolve(server);
    });
  });
}

function run(command: string, args: readonly string[], options: JailOptions): Promise<JailedRun> {
  const child = spawn(command, args, {
    env: { ...options.env, PATH: options.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
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
