import type { RateLimitPolicy } from './roles.js';

/** Milliseconds since the epoch; injected so tests advance time without sleeping. */
export type Clock = () => number;

export type RateDecision =
  | { readonly isAllowed: true; readonly remaining: number }
  | { readonly isAllowed: false; readonly retryAfterMs: number };

interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

/**
 * Token bucket per key (member id): holds up to `burst` tokens and refills at
 * `requestsPerMinute`. No timers: buckets refill lazily from the injected clock when consulted.
 */
export class RateLimiter {
  readonly #clock: Clock;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? Date.now;
  }

  /** Takes one token for `key` if available. */
  take(key: string, policy: RateLimitPolicy, nowMs: number = this.#clock()): RateDecision {
    const ratePerMs = policy.requestsPerMinute / 60_000;
    const bucket = this.#buckets.get(key) ?? { tokens: policy.burst, updatedAtMs: nowMs };
    // A clock that steps backwards must not mint tokens; treat it as no time passed.
    const elapsedMs = Math.max(0, nowMs - bucket.updatedAtMs);
    // Clamp to burst also covers a policy that shrank since the bucket was filled.
    bucket.tokens = Math.min(policy.burst, bucket.tokens + elapsedMs * ratePerMs);
    bucket.updatedAtMs = Math.max(bucket.updatedAtMs, nowMs);
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { isAllowed: true, remaining: Math.floor(bucket.tokens) };
    }
    return { isAllowed: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / ratePerMs) };
  }

  /** Drops a key's bucket (member removed), so the map stays bounded by live members. */
  forget(key: string): void {
    this.#buckets.delete(key);
  }
}
