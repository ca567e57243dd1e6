import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TERM_STATS_KEY_BYTES, deriveTermStatsKey } from '../src/search/term-stats.js';

const SECRET = new Uint8Array(32).fill(7);

describe('term-stats key derivation', () => {
  it('is deterministic per index, so a restarted or restored Vault opens old deltas', () => {
    const key = deriveTermStatsKey(SECRET, 'team');
    expect(key).toHaveLength(TERM_STATS_KEY_BYTES);
    expect(deriveTermStatsKey(SECRET, 'team')).toEqual(key);
  });

  it('differs per index and per team secret', () => {
    const key = deriveTermStatsKey(SECRET, 'team');
    expect(deriveTermStatsKey(SECRET, 'team2')).not.toEqual(key);
    expect(deriveTermStatsKey(new Uint8Array(32).fill(8), 'team')).not.toEqual(key);
  });

  it('follows the documented formula: HKDF-SHA256(team secret, "rune/term-stats/v1", "rune/term-stats/v1" ‖ 0 ‖ id)', () => {
    const expected = hkdfSync('sha256', SECRET, 'rune/term-stats/v1', 'rune/term-stats/v1\0team', 32);
    expect(Buffer.from(deriveTermStatsKey(SECRET, 'team'))).toEqual(Buffer.from(expected));
  });
});
