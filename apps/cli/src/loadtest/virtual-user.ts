import { type RuneClient, isRuneClientError } from '@rune/client';
import type { RequestRecord } from './request-record.js';
import type { Mix } from './scenario.js';
import { type Op, Outcome } from './stats.js';
import { syntheticInsight, syntheticQuery } from './synthetic-text.js';

/** Longest pause a virtual user takes after a 429 (Retry-After is honoured up to this). */
export const MAX_BACKOFF_MS = 5000;
/** Pause after a failure, so an unreachable service is not hammered in a tight loop. */
export const ERROR_PAUSE_MS = 50;
/** The k a load-test recall asks for (within the member role's cap of 10). */
export const RECALL_K = 5;

export interface VirtualUserDeps {
  readonly id: number;
  readonly client: RuneClient;
  readonly mix: Mix;
  readonly random: () => number;
  /** ms since the run started (monotonic). */
  readonly elapsedMs: () => number;
  readonly wallMs: () => number;
  readonly stageAt: (elapsedMs: number) => number;
  /**
   * Asks for the next operation: false once this user is told to stop, the run is over, or the
   * run's operation budget is spent. Every loop turn asks, so the loop is bounded in count and time.
   */
  readonly claim: (vu: number) => boolean;
  readonly record: (r: RequestRecord) => void;
  /** Resolves after `ms`, or earlier when the run stops. */
  readonly pause: (ms: number) => Promise<void>;
}

export function pickOp(mix: Mix, u: number): Op {
  return u * (mix.capture + mix.recall) < mix.capture ? 'capture' : 'recall';
}

/** One virtual user: captures and recalls back to back, as its member, until `claim` says no. */
export async function runVirtualUser(deps: VirtualUserDeps): Promise<void> {
  let seq = 0;
  while (deps.claim(deps.id)) {
    const op = pickOp(deps.mix, deps.random());
    const startMs = deps.elapsedMs();
    const timestampMs = deps.wallMs();
    const base = { startMs, timestampMs, vu: deps.id, stage: deps.stageAt(startMs), op };
    let backoffMs = 0;
    try {
      if (op === 'capture') {
        const out = await deps.client.capture({
          insight: syntheticInsight(deps.random, deps.id, seq++),
          tags: ['loadtest'],
        });
        const t = out.timings;
        deps.record({
          ...base,
          latencyMs: deps.elapsedMs() - startMs,
          outcome: Outcome.OK,
          phases: { embed: t.embedMs, permit: t.permitMs, encrypt: t.encryptMs, insert: t.insertMs },
        });
      } else {
        const out = await deps.client.recall(syntheticQuery(deps.random), { k: RECALL_K });
        const t = out.timings;
        deps.record({
          ...base,
          latencyMs: deps.elapsedMs() - startMs,
          outcome: Outcome.OK,
          phases: {
            embed: t.embedMs,
            ticket: t.ticketMs,
            search: t.searchMs,
            open: t.openMs,
            fetch: t.fetchMs,
          },
          hits: out.hits.length,
        });
      }
    } catch (err: unknown) {
      const isRateLimited = isRuneClientError(err, 'RATE_LIMITED');
      backoffMs = isRateLimited ? Math.min(MAX_BACKOFF_MS, err.retryAfterMs ?? 1000) : ERROR_PAUSE_MS;
      deps.record({
        ...base,
        latencyMs: deps.elapsedMs() - startMs,
        outcome: isRateLimited ? Outcome.RATE_LIMITED : Outcome.ERROR,
        code: codeOf(err),
        ...(isRuneClientError(err) && err.status !== undefined ? { status: err.status } : {}),
      });
    }
    if (backoffMs > 0) await deps.pause(backoffMs);
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}
