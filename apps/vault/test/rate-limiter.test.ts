import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/rate-limiter.js';
import { fakeClock } from './helpers.js';

const policy = { requestsPerMinute: 60, burst: 3 };

describe('RateLimiter', () => {
  it('allows a burst, then trips with a retry-after, then recovers as the clock advances', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ clock: clock.now });
    expect([1, 2, 3].map(() => limiter.take('m1', policy).isAllowed)).toEqual([true, true, true]);
    const tripped = limiter.take('m1', policy);
    expect(tripped).toEqual({ isAllowed: false, retryAfterMs: 1_000 });

    clock.advance(999);
    expect(limiter.take('m1', policy).isAllowed).toBe(false);
    clock.advance(1);
    expect(limiter.take('m1', policy).isAllowed).toBe(true);
    expect(limiter.take('m1', policy).isAllowed).toBe(false);

    // A long idle refills only up to the burst.
    clock.advance(3_600_000);
    expect([1, 2, 3, 4].map(() => limiter.take('m1', policy).isAllowed)).toEqual([true, true, true, false]);
  });

  it('keeps a separate bucket per member', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ clock: clock.now });
    for (let i = 0; i < 3; i++) limiter.take('m1', policy);
    expect(limiter.take('m1', policy).isAllowed).toBe(false);
    expect(limiter.take('m2', policy).isAllowed).toBe(true);
  });

  it('mints no tokens when the clock steps backwards', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ clock: clock.now });
    for (let i = 0; i < 3; i++) limiter.take('m1', policy);
    clock.advance(-60_000);
    expect(limiter.take('m1', policy).isAllowed).toBe(false);
  });

  it('starts a forgotten member with a full bucket', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ clock: clock.now });
    for (let i = 0; i < 3; i++) limiter.take('m1', policy);
    limiter.forget('m1');
    expect(limiter.take('m1', policy)).toEqual({ isAllowed: true, remaining: 2 });
  });
});
