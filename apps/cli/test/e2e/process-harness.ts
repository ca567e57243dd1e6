import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConnectOptions, type MemberConfig, RuneClient } from '@rune/client';
import { ensureIndexIdentity } from '@rune/index';
import { type VerificationKey, decodeBase64url, importVerificationKey } from '@rune/protocol';

/**
 * A Vault and an index as separate `rune … serve` child processes on 127.0.0.1 (plain HTTP, loopback
 * only), wired the way an operator would: the index identity first (the Vault must trust its key),
 * then the Vault (the index must trust its key), then the index on a port fixed up front so the
 * Vault can plant canaries in it and a restart lands on the same URL.
 */

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '../../../..');
const RUNE_BIN = join(REPO_ROOT, 'apps/cli/bin/rune.js');

export const INDEX_ID = 'team';
export const DIM = 384;
export const EMBEDDER_ID = 'lexical-hash-v1-d384';
/** Whole-process start, key generation included, on a loaded 2-core machine. */
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** Captured output kept per stack, for failure messages. */
const MAX_LOG_CHARS = 200_000;

export interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** One line of the Vault's audit log (the fields these tests read). */
export interface AuditLine {
  readonly seq: number;
  readonly actor: string;
  readonly action: string;
  readonly outcome: string;
  readonly reason?: string;
  readonly target?: string;
}

interface ServiceChild {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<void>;
}

/** Interleaved stdout/stderr of every child, prefixed with the service name. */
class OutputLog {
  #text = '';

  add(service: string, stream: 'out' | 'err', chunk: string): void {
    const prefixed = chunk
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => `[${service} ${stream}] ${line}\n`)
      .join('');
    this.#text = (this.#text + prefixed).slice(-MAX_LOG_CHARS);
  }

  tail(chars = 4000): string {
    return this.#text.slice(-chars);
  }
}

/** A port that was free a moment ago (bound on port 0, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolvePort(port);
      });
    });
  });
}

/** Starts `rune <args>` and resolves once it printed its `{"service": …, "url": …}` line. */
function spawnService(
  service: 'vault' | 'index',
  args: readonly string[],
  log: OutputLog,
): Promise<ServiceChild> {
  const child = spawn(process.execPath, [RUNE_BIN, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', () => {
      resolveExit();
    });
  });
  return new Promise((resolveStart, reject) => {
    let pending = '';
    let isAnnounced = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${service} did not start within ${START_TIMEOUT_MS} ms\n${log.tail()}`));
    }, START_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      log.add(service, 'out', chunk);
      if (isAnnounced) return;
      pending += chunk;
      const end = pending.indexOf('\n');
      if (end === -1) return;
      isAnnounced = true;
      clearTimeout(timer);
      let url: unknown;
      try {
        const line = JSON.parse(pending.slice(0, end)) as { service?: unknown; url?: unknown };
        if (line.service !== service) throw new Error(`announced service ${String(line.service)}`);
        url = line.url;
      } catch (err: unknown) {
        child.kill('SIGKILL');
        reject(new Error(`${service} printed an unexpected first line: ${String(err)}\n${log.tail()}`));
        return;
      }
      if (typeof url !== 'string') {
        reject(new Error(`${service} announced no url`));
        return;
      }
      resolveStart({ child, url, exited });
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      log.add(service, 'err', chunk);
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    void exited.then(() => {
      if (isAnnounced) return;
      clearTimeout(timer);
      reject(
        new Error(
          `${service} exited (${String(child.exitCode ?? child.signalCode)}) before announcing its url\n${log.tail()}`,
        ),
      );
    });
  });
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM, then SIGKILL after the grace period; resolves once the process has exited. */
async function stopService(service: ServiceChild | undefined, graceMs = STOP_GRACE_MS): Promise<void> {
  if (service === undefined || !isRunning(service.child)) return;
  service.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'timeout'>((resolveTimeout) => {
    timer = setTimeout(() => {
      resolveTimeout('timeout');
    }, graceMs);
  });
  const outcome = await Promise.race([service.exited.then(() => 'exited' as const), graceOver]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    service.child.kill('SIGKILL');
    await service.exited;
  }
}

/** One JSON request without connection reuse, so a killed and restarted index never meets a stale socket. */
export function httpJson(
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  token?: string,
): Promise<HttpAnswer> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolveAnswer, reject) => {
    const req = request(
      url,
      {
        method,
        agent: false,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          accept: 'application/json',
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': payload.byteLength }),
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // Not JSON (the metrics text): handed back as the string.
          }
          resolveAnswer({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} did not answer in time`)));
    req.on('error', reject);
    req.end(payload);
  });
}

function expectStatus(answer: HttpAnswer, status: number, what: string): void {
  if (answer.status !== status) {
    throw new Error(`${what}: expected HTTP ${status}, got ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
}

/** The value of one sample of a Prometheus text exposition, 0 when that label set has no sample yet. */
export function metricValue(
  text: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (match?.[1] !== name) continue;
    const found = new Map<string, string>();
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      found.set(pair[1] ?? '', pair[2] ?? '');
    }
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) return Number(match[3]);
  }
  return 0;
}

/** A uniformly random unit vector (Box–Muller over Math.random; test data, not key material). */
export function randomUnitVector(dim = DIM): Float32Array {
  const out = new Float64Array(dim);
  let sq = 0;
  for (let i = 0; i < dim; i++) {
    const u1 = 1 - Math.random();
    const u2 = Math.random();
    const x = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    out[i] = x;
    sq += x * x;
  }
  const inv = 1 / Math.sqrt(sq);
  return Float32Array.from(out, (x) => x * inv);
}

export interface ProcessStackOptions {
  /** Scoring threads of the index (default 1: two stacks may share two cores). */
  readonly indexThreads?: number;
}

/** The running pair, a member with a high rate limit, and the levers the tests pull. */
export class ProcessStack {
  readonly dir: string;
  readonly vaultDir: string;
  readonly indexDir: string;
  readonly indexPort: number;
  readonly #log: OutputLog;
  readonly #indexArgs: readonly string[];
  #vault: ServiceChild | undefined;
  #index: ServiceChild | undefined;
  #member: { id: string; token: string; config: MemberConfig } | undefined;
  #keys: { vault: VerificationKey; index: VerificationKey } | undefined;

  private constructor(dir: string, indexPort: number, log: OutputLog, threads: number) {
    this.dir = dir;
    this.vaultDir = join(dir, 'vault');
    this.indexDir = join(dir, 'index');
    this.indexPort = indexPort;
    this.#log = log;
    this.#indexArgs = [
      'index',
      'serve',
      '--data-dir',
      this.indexDir,
      '--vault-published-key',
      join(this.vaultDir, 'published-key.json'),
      '--plain-http',
      '--port',
      String(indexPort),
      '--threads',
      String(threads),
    ];
  }

  static async start(options: ProcessStackOptions = {}): Promise<ProcessStack> {
    const dir = await mkdtemp(join(tmpdir(), 'rune-e2e-'));
    const stack = new ProcessStack(dir, await freePort(), new OutputLog(), options.indexThreads ?? 1);
    try {
      await stack.#boot();
      return stack;
    } catch (err: unknown) {
      await stack.stop();
      throw err;
    }
  }

  get vaultUrl(): string {
    if (this.#vault === undefined) throw new Error('the Vault is not running');
    return this.#vault.url;
  }

  get indexUrl(): string {
    return `http://127.0.0.1:${this.indexPort}`;
  }

  get memberId(): string {
    return this.#requireMember().id;
  }

  /** SECURITY (test only): the member's bearer token, for raw requests to the Vault. */
  get memberToken(): string {
    return this.#requireMember().token;
  }

  get config(): MemberConfig {
    return this.#requireMember().config;
  }

  /** The Vault's Ed25519 key (tickets, permits) and the index's (results, receipts). */
  get verifyKeys(): { vault: VerificationKey; index: VerificationKey } {
    if (this.#keys === undefined) throw new Error('the stack has not started');
    return this.#keys;
  }

  async #boot(): Promise<void> {
    // The index identity must exist before the Vault starts: the Vault trusts exactly its key.
    const identity = await ensureIndexIdentity(this.indexDir);
    const kekFile = join(this.dir, 'vault-kek.passphrase');
    await writeFile(kekFile, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    this.#vault = await spawnService(
      'vault',
      [
        'vault',
        'serve',
        '--data-dir',
        this.vaultDir,
        '--kek-file',
        kekFile,
        '--index-key-file',
        join(this.indexDir, 'index-signing.pub'),
        '--index-url',
        this.indexUrl,
        '--plain-http',
        '--port',
        '0',
      ],
      this.#log,
    );
    await this.restartIndex();

    const adminToken = (await readFile(join(this.vaultDir, 'bootstrap-admin.token'), 'utf8')).trim();
    expectStatus(
      await httpJson(
        'POST',
        `${this.indexUrl}/v1/indexes`,
        { indexId: INDEX_ID, paramSetId: 1, dim: DIM, embedderId: EMBEDDER_ID },
        identity.operatorToken,
      ),
      201,
      'create the index',
    );
    expectStatus(
      await httpJson('POST', `${this.vaultUrl}/v1/indexes`, { indexId: INDEX_ID, dim: DIM }, adminToken),
      201,
      'register the index at the Vault',
    );
    // A member role whose rate limit never throttles a test burst; captures and recalls only.
    expectStatus(
      await httpJson(
        'POST',
        `${this.vaultUrl}/v1/roles`,
        {
          name: 'e2e-member',
          capabilities: ['capture', 'recall'],
          topKCap: 10,
          rateLimit: { requestsPerMinute: 100_000, burst: 10_000 },
        },
        adminToken,
      ),
      201,
      'define the test role',
    );
    const added = await httpJson(
      'POST',
      `${this.vaultUrl}/v1/members`,
      { name: 'e2e member', email: 'e2e@example.test', role: 'e2e-member' },
      adminToken,
    );
    expectStatus(added, 201, 'add the test member');
    const issued = added.body as { member: { id: string }; token: string };

    const published = JSON.parse(await readFile(join(this.vaultDir, 'published-key.json'), 'utf8')) as {
      publicKeyHash: string;
      keyId: string;
      vaultVerifyKey: string;
    };
    this.#keys = {
      vault: importVerificationKey(decodeBase64url(published.vaultVerifyKey)),
      index: importVerificationKey(decodeBase64url(identity.publicKey)),
    };
    this.#member = {
      id: issued.member.id,
      token: issued.token,
      config: {
        version: 1,
        vaultUrl: this.vaultUrl,
        indexUrl: this.indexUrl,
        indexId: INDEX_ID,
        token: issued.token,
        publicKeyHash: published.publicKeyHash,
        vaultKeyId: published.keyId,
        indexVerifyKey: (await readFile(join(this.indexDir, 'index-signing.pub'), 'utf8')).trim(),
        memberId: issued.member.id,
        name: 'e2e member',
        embedder: { id: EMBEDDER_ID, dim: DIM },
      },
    };
  }

  #requireMember(): { id: string; token: string; config: MemberConfig } {
    if (this.#member === undefined) throw new Error('the stack has not started');
    return this.#member;
  }

  /** A member client with the Vault's key pinned; close it when done. */
  connect(options: ConnectOptions = {}): Promise<RuneClient> {
    return RuneClient.connect(this.config, options);
  }

  /** Stops the index if it runs (SIGTERM), then starts it again on the same port and data directory. */
  async restartIndex(): Promise<void> {
    await stopService(this.#index);
    this.#index = await spawnService('index', this.#indexArgs, this.#log);
  }

  /** `kill -9` of the index; resolves once the process is gone. */
  async killIndex(): Promise<void> {
    const index = this.#index;
    if (index === undefined || !isRunning(index.child)) return;
    index.child.kill('SIGKILL');
    await index.exited;
  }

  vaultPost(path: string, body: unknown, token = this.memberToken): Promise<HttpAnswer> {
    return httpJson('POST', `${this.vaultUrl}${path}`, body, token);
  }

  indexPost(path: string, body: unknown): Promise<HttpAnswer> {
    return httpJson('POST', `${this.indexUrl}${path}`, body);
  }

  /** One sample of the Vault's /metrics. */
  async vaultMetric(name: string, labels: Readonly<Record<string, string>> = {}): Promise<number> {
    const answer = await httpJson('GET', `${this.vaultUrl}/metrics`);
    expectStatus(answer, 200, 'read the Vault metrics');
    return metricValue(String(answer.body), name, labels);
  }

  /** Every entry of the Vault's audit log so far (appends are durable before a response leaves). */
  async auditEntries(): Promise<AuditLine[]> {
    const text = await readFile(join(this.vaultDir, 'audit.log'), 'utf8');
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as AuditLine);
  }

  /** The children's recent output, for failure messages. */
  output(chars?: number): string {
    return this.#log.tail(chars);
  }

  /** Stops both processes (SIGTERM, SIGKILL after 10 s) and removes the data directory. */
  async stop(): Promise<void> {
    await Promise.all([stopService(this.#index), stopService(this.#vault)]);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Polls `check` every `intervalMs` until it holds; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolveSleep) => setTimeout(resolveSleep, intervalMs));
  }
}
