import { homedir } from 'node:os';
import { type MemberConfig, RuneClient, prepareEmbedder } from '@rune/client';
import { createEngine } from '@rune/crypto';
import { MetricsSampler, type MetricsSample, type ServerRequests } from './metrics-sampler.js';
import type { RequestRecord } from './request-record.js';
import { type Scenario, peakUsers, stageAt, totalDurationMs, usersAt } from './scenario.js';
import { seededRandom } from './synthetic-text.js';
import { runVirtualUser } from './virtual-user.js';

/** How often the controller adds or retires virtual users to follow the profile. */
const CONTROL_TICK_MS = 100;
/** Clients connected at once before the run (each fetches and checks the pinned key). */
const CONNECT_CONCURRENCY = 8;
/** Per-request deadline of every virtual user's client. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface RunOptions {
  readonly scenario: Scenario;
  readonly config: MemberConfig;
  /** Hard cap on operations over the run, whatever the profile says. */
  readonly maxOperations: number;
  readonly seed: number;
  readonly sampleIntervalMs: number;
  /** Every finished operation, in finishing order (the CSV writer). */
  readonly onRecord: (r: RequestRecord) => void;
  /** Aborts the run early (Ctrl-C): users finish their operation and stop. */
  readonly signal?: AbortSignal;
  readonly log: (line: string) => void;
  /** Where a model embedder reads its settings (RUNE_OFFLINE, API key variables). */
  readonly env: NodeJS.ProcessEnv;
}

/** What the live view reads while the run goes. */
export interface RunHandle {
  /** Virtual users running now. */
  readonly users: () => number;
  readonly elapsedMs: () => number;
  /** Operations started so far. */
  readonly operations: () => number;
  /** The latest finished operations (at most RECENT_LIMIT). */
  readonly recent: () => readonly RequestRecord[];
}

/** Enough recent operations for a 5 s live window at 1000 op/s. */
const RECENT_LIMIT = 5000;

export interface RunResult {
  readonly records: readonly RequestRecord[];
  readonly startedAtMs: number;
  readonly elapsedMs: number;
  readonly metrics: readonly MetricsSample[];
  readonly serverRequests: ServerRequests;
  readonly decryption: { count: number; meanMs: number; p95Ms: number };
  readonly scrapeFailures: number;
  readonly lastScrapeError?: string;
  readonly stoppedBy: 'profile' | 'operation-cap' | 'interrupted';
}

/**
 * Runs the scenario: connects one client per peak virtual user (a failure here stops the run
 * before any load), then follows the profile, adding users and retiring the highest-numbered
 * ones as it says, until its last stage ends, the operation cap is spent or the signal fires.
 */
export async function runLoad(
  options: RunOptions,
  onStart?: (handle: RunHandle) => void,
): Promise<RunResult> {
  const { scenario, config } = options;
  const stages = scenario.stages;
  const totalMs = totalDurationMs(stages);
  const clients = await connectClients(config, peakUsers(stages), options.env, options.log);
  const sampler = new MetricsSampler(
    {
      vaultUrl: config.vaultUrl,
      indexUrl: config.indexUrl,
      ...(config.caCert === undefined ? {} : { caCert: config.caCert }),
    },
    () => performance.now() - t0,
  );
  const records: RequestRecord[] = [];
  const wanted = new Array<boolean>(clients.length).fill(false);
  const running = new Map<number, Promise<void>>();
  let operations = 0;
  let stoppedBy: RunResult['stoppedBy'] = 'profile';
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let t0 = performance.now();

  const isOver = () => {
    if (options.signal?.aborted === true) stoppedBy = 'interrupted';
    else if (operations >= options.maxOperations) stoppedBy = 'operation-cap';
    else if (performance.now() - t0 >= totalMs) return true;
    else return false;
    return true;
  };
  const pause = (ms: number) =>
    Promise.race([new Promise<void>((resolve) => setTimeout(resolve, ms).unref()), finished]);

  try {
    await sampler.start(options.sampleIntervalMs);
    t0 = performance.now();
    const startedAtMs = Date.now();
    const follow = () => {
      const elapsed = performance.now() - t0;
      const users = isOver() ? 0 : usersAt(stages, elapsed);
      for (let i = 0; i < clients.length; i++) {
        wanted[i] = i < users;
        const client = clients[i];
        if (wanted[i] !== true || running.has(i) || client === undefined) continue;
        const loop = runVirtualUser({
          id: i + 1,
          client,
          mix: scenario.mix,
          random: seededRandom(options.seed + i * 7919),
          elapsedMs: () => performance.now() - t0,
          wallMs: Date.now,
          stageAt: (ms) => stageAt(stages, ms),
          claim: (vu) => {
            if (wanted[vu - 1] !== true || isOver()) return false;
            operations++;
            return true;
          },
          record: (r) => {
            records.push(r);
            options.onRecord(r);
          },
          pause,
        }).finally(() => running.delete(i));
        running.set(i, loop);
      }
      if (users === 0 && isOver()) finish();
    };
    onStart?.({
      users: () => running.size,
      elapsedMs: () => performance.now() - t0,
      operations: () => operations,
      recent: () => records.slice(-RECENT_LIMIT),
    });
    follow();
    const timer = setInterval(follow, CONTROL_TICK_MS);
    const onAbort = () => {
      stoppedBy = 'interrupted';
      finish();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    await finished;
    clearInterval(timer);
    options.signal?.removeEventListener('abort', onAbort);
    wanted.fill(false);
    await Promise.all(running.values());
    const elapsedMs = performance.now() - t0;
    await sampler.stop();
    return {
      records,
      startedAtMs,
      elapsedMs,
      metrics: sampler.samples,
      serverRequests: sampler.serverRequests(),
      decryption: sampler.decryptionOverall(),
      scrapeFailures: sampler.failures,
      ...(sampler.lastError === undefined ? {} : { lastScrapeError: sampler.lastError }),
      stoppedBy,
    };
  } finally {
    for (const c of clients) c.close();
  }
}

/**
 * One client per virtual user, sharing the embedder and the engine (both stateless). The embedder
 * is the member config's, as for `rune capture`, loaded before the run so no operation pays for it.
 */
async function connectClients(
  config: MemberConfig,
  count: number,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<RuneClient[]> {
  const embedder = await prepareEmbedder(config, undefined, { env, homedir: homedir() });
  const engine = createEngine();
  const clients: RuneClient[] = [];
  log(`connecting ${count} virtual user${count === 1 ? '' : 's'} to ${config.vaultUrl}`);
  try {
    for (let i = 0; i < count; i += CONNECT_CONCURRENCY) {
      const batch = Math.min(CONNECT_CONCURRENCY, count - i);
      const settled = await Promise.allSettled(
        Array.from({ length: batch }, () =>
          RuneClient.connect(config, { embedder, engine, timeoutMs: REQUEST_TIMEOUT_MS }),
        ),
      );
      for (const s of settled) if (s.status === 'fulfilled') clients.push(s.value);
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    }
    return clients;
  } catch (err: unknown) {
    for (const c of clients) c.close();
    throw err;
  }
}
