import { ProtocolError } from './errors.js';
import { CLOCK_SKEW_MS } from './signing.js';

export interface ReplayGuardOptions {
  /** Most unexpired ids held at once; beyond it `consume` refuses (REPLAY_GUARD_FULL). */
  readonly capacity: number;
  /** Current time, ms since the Unix epoch. */
  readonly now: () => number;
}

/**
 * Single-use ids (ticket ids, permit nonces) for one process.
 *
 * SECURITY invariants:
 * - an id is remembered until its expiresAt + CLOCK_SKEW_MS has passed, i.e. for at least as long
 *   as verifyEnvelope would still accept the message that carries it;
 * - when full, the guard refuses new ids instead of evicting live ones: forgetting early would
 *   re-open a replay window, refusing only costs availability (and is counted by the caller);
 * - memory only: after a restart the caller must refuse ids issued before it started, or persist.
 */
export class ReplayGuard {
  readonly capacity: number;
  readonly #now: () => number;
  /** id → time (ms) after which the id may be forgotten. */
  readonly #forgetAt = new Map<string, number>();
  /** Min-heap on forgetAt, so sweeping expired ids costs O(log n) each. */
  readonly #heap: { forgetAt: number; id: string }[] = [];

  constructor(options: ReplayGuardOptions) {
    if (!Number.isSafeInteger(options.capacity) || options.capacity < 1) {
      throw new ProtocolError('INVALID_ARGUMENT', 'replay guard capacity must be a positive integer');
    }
    this.capacity = options.capacity;
    this.#now = options.now;
  }

  get size(): number {
    this.#sweep(this.#now());
    return this.#forgetAt.size;
  }

  /** True while `id` is remembered as used. */
  has(id: string): boolean {
    this.#sweep(this.#now());
    return this.#forgetAt.has(id);
  }

  /**
   * Marks `id` used; throws REPLAYED if it already was. Call only after the carrying message
   * verified, with that message's expiresAt.
   */
  consume(id: string, expiresAt: number): void {
    if (!Number.isSafeInteger(expiresAt)) {
      throw new ProtocolError('INVALID_ARGUMENT', 'expiresAt must be an integer ms timestamp');
    }
    const now = this.#now();
    this.#sweep(now);
    if (this.#forgetAt.has(id)) throw new ProtocolError('REPLAYED', 'this single-use id was already used');
    const forgetAt = expiresAt + CLOCK_SKEW_MS;
    // Fail closed: an id we would not remember must not be accepted either.
    if (forgetAt <= now) throw new ProtocolError('EXPIRED', 'the message carrying this id has expired');
    if (this.#forgetAt.size >= this.capacity) {
      throw new ProtocolError(
        'REPLAY_GUARD_FULL',
        `replay guard holds ${this.capacity} unexpired ids; refusing until some expire`,
      );
    }
    this.#forgetAt.set(id, forgetAt);
    this.#push({ forgetAt, id });
  }

  #sweep(now: number): void {
    for (;;) {
      const top = this.#heap[0];
      if (top === undefined || top.forgetAt > now) return;
      this.#pop();
      if (this.#forgetAt.get(top.id) === top.forgetAt) this.#forgetAt.delete(top.id);
    }
  }

  #push(entry: { forgetAt: number; id: string }): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (p === undefined || p.forgetAt <= entry.forgetAt) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      let child = heap[2 * i + 1];
      let childAt = 2 * i + 1;
      const right = heap[2 * i + 2];
      if (child !== undefined && right !== undefined && right.forgetAt < child.forgetAt) {
        child = right;
        childAt = 2 * i + 2;
      }
      if (child === undefined || child.forgetAt >= last.forgetAt) break;
      heap[i] = child;
      i = childAt;
    }
    heap[i] = last;
  }
}
