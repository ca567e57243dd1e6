import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS, ReplayGuard } from '../src/index.js';
import { NOW, expectCode } from './helpers.js';

function guardAt(start: number, capacity = 10) {
  const clock = { now: start };
  const guard = new ReplayGuard({ capacity, now: () => clock.now });
  return { guard, clock };
}

describe('ReplayGuard', () => {
  it('accepts an id once and refuses its second use with REPLAYED', () => {
    const { guard } = guardAt(NOW);
    guard.consume('ticket-1', NOW + 60_000);
    expect(guard.has('ticket-1')).toBe(true);
    expectCode(() => {
      guard.consume('ticket-1', NOW + 60_000);
    }, 'REPLAYED');
    // A replay that claims a different expiry is still the same id.
    expectCode(() => {
      guard.consume('ticket-1', NOW + 1);
    }, 'REPLAYED');
  });

  it('remembers an id until expiresAt + skew, as long as verifyEnvelope would accept it', () => {
    const { guard, clock } = guardAt(NOW);
    guard.consume('ticket-1', NOW + 60_000);
    clock.now = NOW + 60_000 + CLOCK_SKEW_MS - 1;
    expectCode(() => {
      guard.consume('ticket-1', NOW + 60_000);
    }, 'REPLAYED');
    clock.now = NOW + 60_000 + CLOCK_SKEW_MS;
    expect(guard.has('ticket-1')).toBe(false);
    expect(guard.size).toBe(0);
  });

  it('refuses an id whose message has already expired rather than accept what it cannot remember', () => {
    const { guard } = guardAt(NOW);
    expectCode(() => {
      guard.consume('late', NOW - CLOCK_SKEW_MS);
    }, 'EXPIRED');
    expect(guard.has('late')).toBe(false);
  });

  it('refuses new ids with REPLAY_GUARD_FULL when full instead of forgetting live ones', () => {
    const { guard, clock } = guardAt(NOW, 3);
    guard.consume('a', NOW + 1_000);
    guard.consume('b', NOW + 5_000);
    guard.consume('c', NOW + 3_000);
    expectCode(() => {
      guard.consume('d', NOW + 1_000);
    }, 'REPLAY_GUARD_FULL');
    expect(['a', 'b', 'c'].every((id) => guard.has(id))).toBe(true);
    // Once the earliest expires, room opens and only that id is forgotten.
    clock.now = NOW + 1_000 + CLOCK_SKEW_MS;
    guard.consume('d', NOW + 20_000);
    expect(guard.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((id) => guard.has(id))).toBe(true);
  });

  it('forgets ids in expiry order whatever the insertion order', () => {
    const { guard, clock } = guardAt(NOW, 1_000);
    const expiries = Array.from({ length: 200 }, (_, i) => NOW + ((i * 7919) % 200) * 100 + 100);
    expiries.forEach((expiresAt, i) => {
      guard.consume(`id-${i}`, expiresAt);
    });
    for (let step = 0; step <= 200; step += 13) {
      clock.now = NOW + step * 100 + CLOCK_SKEW_MS;
      expiries.forEach((expiresAt, i) => {
        expect(guard.has(`id-${i}`)).toBe(expiresAt + CLOCK_SKEW_MS > clock.now);
      });
    }
  });

  it('rejects a non-positive capacity and a non-integer expiry with INVALID_ARGUMENT', () => {
    expectCode(() => new ReplayGuard({ capacity: 0, now: () => NOW }), 'INVALID_ARGUMENT');
    const { guard } = guardAt(NOW);
    expectCode(() => {
      guard.consume('x', Number.NaN);
    }, 'INVALID_ARGUMENT');
  });
});
