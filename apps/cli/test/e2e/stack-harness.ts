import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonHttpClient, type MemberConfig, readMemberConfig, writeMemberConfig } from '@rune/client';

/** The `rune` bin and the repository root the children run in. */
import { RUNE_BIN, runRune } from '../run-rune.js';

export { RUNE_BIN };
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const CLI_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 30_000;

export interface CliResult {
  /** Exit status; null when the child was killed by a signal. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** RUNE_CONFIG of the child (default: the config `rune up` wrote, the admin's). */
  readonly config?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

export interface RawRequest {
  readonly method?: string;
  /** Path under the service's origin, with its query. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string | number>>;
  readonly body?: string | Buffer;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

export interface AddedMember {
  readonly memberId: string;
  readonly token: string;
  readonly config: MemberConfig;
  /** The member's config file (mode 0600), outside the data directory. */
  readonly configPath: string;
}

/** One line of DIR/vault/audit.log. */
export interface AuditLine {
  readonly seq: number;
  readonly actor: string;
  readonly action: string;
  readonly outcome: 'allowed' | 'denied';
  readonly reason?: string;
  readonly target?: string;
}

export interface StackOptions {
  /** `--plain-http` instead of the generated private CA. */
  readonly plainHttp?: boolean;
}

/** A `rune up` child process and what a test needs to drive it. */
export interface RuneStack {
  /** Temp folder holding the data dir and every member config; removed by dispose(). */
  readonly root: string;
  readonly dataDir: string;
  readonly vaultUrl: string;
  readonly indexUrl: string;
  readonly indexId: string;
  /** RUNE_CONFIG of the `rune up` child: the admin's member config it wrote there. */
  readonly memberConfigPath: string;
  readonly adminConfigPath: string;
  readonly adminConfig: MemberConfig;
  /** PEM of the private CA, absent with --plain-http. */
  readonly caCert: string | undefined;
  /** Everything the `rune up` child printed so far. */
  output(): { stdout: string; stderr: string };
  /** Runs `rune ARGS` as a child process with RUNE_CONFIG set. */
  rune(args: readonly string[], options?: CliOptions): Promise<CliResult>;
  /** One raw HTTP(S) request to a service, trusting the stack's CA; never throws on a status. */
  request(service: 'vault' | 'index', init: RawRequest): Promise<RawResponse>;
  /** A JSON client of the Vault carrying `token` (default: the admin's). Closed by dispose(). */
  vaultClient(token?: string): JsonHttpClient;
  /** Adds a member through POST /v1/members as the admin and writes its member config. */
  addMember(input: { role: string; name?: string; expiresAt?: number }): Promise<AddedMember>;
  auditEntries(): Promise<AuditLine[]>;
  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit status (null if killed). */
  stop(): Promise<number | null>;
  /** stop() and remove `root`. */
  dispose(): Promise<void>;
}

interface UpLine {
  readonly service: 'rune-up';
  readonly vaultUrl: string;
  readonly indexUrl: string;
  readonly indexId: string;
  readonly memberConfig: string;
  readonly adminConfig: string;
  /** The command that registers `rune mcp` with each agent, as `rune up` prints it. */
  readonly agents: Readonly<Record<'claude' | 'gemini' | 'codex', string>>;
}

function isUpLine(value: unknown): value is UpLine {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.service === 'rune-up' &&
    typeof v.vaultUrl === 'string' &&
    typeof v.indexUrl === 'string' &&
    typeof v.indexId === 'string' &&
    typeof v.memberConfig === 'string' &&
    typeof v.adminConfig === 'string' &&
    typeof v.agents === 'object' &&
    v.agents !== null &&
    ['claude', 'gemini', 'codex'].every((agent) =>
      String((v.agents as Record<string, unknown>)[agent]).includes(' rune mcp'),
    )
  );
}

/** Environment of every child: the test's own, without a debug switch that would change stderr. */
function childEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.RUNE_DEBUG;
  return env;
}

/** Children still running; killed if the test process exits without stopping them (a crash). */
const liveChildren = new Set<ChildProcess>();
/** Stacks not yet disposed, for disposeStacks() in afterAll. */
const liveStacks = new Set<RuneStack>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** Disposes every stack this file started; safe in afterAll even when beforeAll failed half-way. */
export async function disposeStacks(): Promise<void> {
  await Promise.all([...liveStacks].map((s) => s.dispose()));
}

/** Starts `rune up` on free loopback ports in a fresh temp folder and waits for its JSON line. */
export async function startStack(options: StackOptions = {}): Promise<RuneStack> {
  const root = await mkdtemp(join(tmpdir(), 'rune-e2e-'));
  const dataDir = join(root, 'data');
  const configsDir = join(root, 'configs');
  await mkdir(configsDir, { mode: 0o700 });
  const memberConfigPath = join(configsDir, 'rune-up.json');
  const args = [RUNE_BIN, 'up', '--data-dir', dataDir, '--vault-port', '0', '--index-port', '0'];
  if (options.plainHttp === true) args.push('--plain-http');
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: childEnv({ RUNE_CONFIG: memberConfigPath }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out.stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out.stderr += s));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      liveChildren.delete(child);
      resolve(code);
    });
  });

  let up: UpLine;
  try {
    up = await waitForUpLine(child, out, exited);
  } catch (err: unknown) {
    await stopChild(child, exited);
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  const adminConfig = await readMemberConfig(up.adminConfig);
  const caCert = adminConfig.caCert;
  const clients: JsonHttpClient[] = [];

  const vaultClient = (token: string = adminConfig.token): JsonHttpClient => {
    const client = new JsonHttpClient({
      service: 'vault',
      baseUrl: up.vaultUrl,
      token,
      ...(caCert === undefined ? {} : { caCert }),
    });
    clients.push(client);
    return client;
  };
  const admin = vaultClient();
  let memberCount = 0;
  let disposed = false;

  const stack: RuneStack = {
    root,
    dataDir,
    vaultUrl: up.vaultUrl,
    indexUrl: up.indexUrl,
    indexId: up.indexId,
    memberConfigPath: up.memberConfig,
    adminConfigPath: up.adminConfig,
    adminConfig,
    caCert,
    output: () => ({ ...out }),
    rune: (cliArgs, cliOptions = {}) =>
      runCli(cliArgs, {
        ...cliOptions,
        config: cliOptions.config ?? up.memberConfig,
      }),
    request: (service, init) => rawRequest(service === 'vault' ? up.vaultUrl : up.indexUrl, init, caCert),
    vaultClient,
    addMember: async ({ role, name, expiresAt }) => {
      memberCount += 1;
      const memberName = name ?? `${role}-${memberCount}`;
      const answer = (await admin.post('/v1/members', {
        name: memberName,
        email: `${memberName}-${memberCount}@example.test`,
        role,
        ...(expiresAt === undefined ? {} : { expiresAt }),
      })) as { member: { id: string }; token: string };
      const config: MemberConfig = {
        ...adminConfig,
        token: answer.token,
        memberId: answer.member.id,
        name: memberName,
      };
      const configPath = join(configsDir, `${memberName}-${memberCount}.json`);
      await writeMemberConfig(configPath, config);
      return { memberId: answer.member.id, token: answer.token, config, configPath };
    },
    auditEntries: async () => readAudit(join(dataDir, 'vault', 'audit.log')),
    stop: () => {
      for (const client of clients) client.close();
      return stopChild(child, exited);
    },
    dispose: async () => {
      if (disposed) return;
      disposed = true;
      liveStacks.delete(stack);
      await stack.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
  liveStacks.add(stack);
  return stack;
}

function waitForUpLine(
  child: ChildProcess,
  out: { stdout: string; stderr: string },
  exited: Promise<number | null>,
): Promise<UpLine> {
  return new Promise<UpLine>((resolve, reject) => {
    let isDone = false;
    const finish = (err: Error | undefined, line?: UpLine) => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      if (err !== undefined) reject(err);
      else if (line !== undefined) resolve(line);
    };
    const onData = () => {
      for (const text of out.stdout.split('\n').slice(0, -1)) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          continue;
        }
        if (isUpLine(parsed)) {
          finish(undefined, parsed);
          return;
        }
      }
    };
    const timer = setTimeout(() => {
      finish(new Error(`rune up printed no JSON line within ${READY_TIMEOUT_MS} ms; stderr:\n${out.stderr}`));
    }, READY_TIMEOUT_MS);
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      finish(new Error(`rune up exited (${String(code)}) before it was ready; stderr:\n${out.stderr}`));
    });
  });
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  try {
    return await exited;
  } finally {
    clearTimeout(killer);
  }
}

/** `rune ARGS` as a child process; output captured, killed after the timeout. */
export async function runCli(
  args: readonly string[],
  options: CliOptions & { config: string },
): Promise<CliResult> {
  let spawned: ChildProcess | undefined;
  try {
    return await runRune(args, {
      cwd: REPO_ROOT,
      env: childEnv({ RUNE_CONFIG: options.config, ...options.env }),
      timeoutMs: options.timeoutMs ?? CLI_TIMEOUT_MS,
      onSpawn: (child) => {
        spawned = child;
        liveChildren.add(child);
      },
    });
  } finally {
    if (spawned !== undefined) liveChildren.delete(spawned);
  }
}

/** One request on a fresh connection (no keep-alive, so no stale-socket races). */
export function rawRequest(baseUrl: string, init: RawRequest, ca: string | undefined): Promise<RawResponse> {
  const url = new URL(init.path, baseUrl);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const body = init.body === undefined ? undefined : Buffer.from(init.body);
  const headers: Record<string, string | number> = { ...init.headers };
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
    headers['content-length'] = body.byteLength;
  }
  return new Promise<RawResponse>((resolve, reject) => {
    const req = send(
      url,
      {
        method: init.method ?? 'GET',
        headers,
        agent: false,
        timeout: REQUEST_TIMEOUT_MS,
        ...(ca === undefined ? {} : { ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url.href} did not answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function readAudit(path: string): Promise<AuditLine[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as AuditLine);
}

/** The `{"error":{"code"}}` of a refusal, if the text is one. */
export function errorCodeOf(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown } } | null;
    const code = parsed?.error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** Every regular file under `dir`, recursively. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** A well-formed member token that no Vault issued. */
export function forgedToken(): string {
  return `rune_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
