import { encodeBase64url } from '@rune/protocol';
import type { SearchCore } from '../search/index.js';
import { type IndexLink, postToIndex } from './index-link.js';

export interface CanaryKeeperLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Planted per pass, so one slow index never holds a capture's permit path for long. */
const BATCH = 16;
/** A canary still unconfirmed after this is abandoned and replaced. */
const STALE_AFTER_MS = 2 * 60_000;
/** Longest wait between passes while the index keeps failing. */
const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * Keeps about one secret canary per block in every registered index: after captures (and on a
 * timer) it plants what is missing through the index's ordinary insert endpoint and arms each
 * canary with the index's signed receipt. Runs in the background; a failed pass is retried later
 * and never blocks a member's request.
 */
export class CanaryKeeper {
  readonly #search: SearchCore;
  readonly #link: IndexLink;
  readonly #logger: CanaryKeeperLogger;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #intervalMs = 30_000;
  #failures = 0;
  #notBefore = 0;

  constructor(search: SearchCore, link: IndexLink, logger: CanaryKeeperLogger) {
    this.#search = search;
    this.#link = link;
    this.#logger = logger;
  }

  /** Starts the periodic pass (unref'd: it never keeps the process alive). */
  start(intervalMs = 30_000): void {
    this.#intervalMs = intervalMs;
    this.#timer = setInterval(() => {
      this.poke();
    }, intervalMs);
    this.#timer.unref();
    this.poke();
  }

  /** Requests a pass; coalesces with one already running. */
  poke(): void {
    // While the index fails, passes back off (each failed pass may cost one allocated slot).
    if (Date.now() < this.#notBefore) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#passes().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once no pass is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#again = false;
    await this.idle();
  }

  async #passes(): Promise<void> {
    do {
      this.#again = false;
      for (const indexId of this.#search.indexIds()) {
        try {
          await this.#search.abandonStaleCanaries({ indexId, olderThanMs: STALE_AFTER_MS });
          await this.#topUp(indexId);
          this.#failures = 0;
          this.#notBefore = 0;
        } catch (err: unknown) {
          this.#failures++;
          const backoffMs = Math.min(MAX_BACKOFF_MS, this.#intervalMs * 2 ** this.#failures);
          this.#notBefore = Date.now() + backoffMs;
          this.#again = false;
          this.#logger.warn(
            { indexId, err: err instanceof Error ? err.message : String(err), retryInMs: backoffMs },
            'canary planting failed; will retry',
          );
        }
      }
      // poke() and #topUp set #again while this pass awaits; the checker cannot see that.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    } while (this.#again);
  }

  async #topUp(indexId: string): Promise<void> {
    const missing = this.#search.canaryDeficit(indexId);
    if (missing === 0) return;
    // One at a time: a failing index then costs at most one allocated slot per pass.
    for (let n = 0; n < Math.min(missing, BATCH); n++) {
      const [canary] = await this.#search.plantCanaries({ indexId, count: 1 });
      if (canary === undefined) return;
      const res = await postToIndex(this.#link, `/v1/indexes/${encodeURIComponent(indexId)}/records`, {
        permit: canary.permit,
        vector: encodeBase64url(canary.encryptedVector),
        sealed: encodeBase64url(canary.sealed),
      });
      const receipt = (res.body as { receipt?: unknown } | undefined)?.receipt;
      if (res.status !== 201 || receipt === undefined) {
        throw new Error(`index refused a canary insert with status ${res.status}`);
      }
      await this.#search.confirmCanaryInsert({ indexId, receipt });
    }
    if (missing > BATCH) this.#again = true;
  }
}
