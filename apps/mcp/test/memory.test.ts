import { mkdtemp, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecallHit, RecordPayload } from '@rune/client';
import { describe, expect, it } from 'vitest';
import { matchesFilters } from '../src/memory/filters.js';
import { HistoryLog, defaultHistoryPath, selectHistory } from '../src/memory/history-log.js';
import { rerank, successorsOf } from '../src/memory/rerank.js';
import { RoleCap } from '../src/memory/role-cap.js';
import { RuneClientError } from '@rune/client';

const DAY = 86_400_000;
const NOW = 1_800_000_000_000;

function hit(recordId: string, score: number, fields: Partial<RecordPayload> = {}): RecallHit {
  return { recordId, score, record: { v: 1, insight: `insight ${recordId}`, createdAt: NOW, ...fields } };
}

describe('rerank', () => {
  it('ranks a superseded record below its successor and names it', () => {
    const hits = [hit('old', 0.9), hit('new', 0.8, { supersedes: 'old' })];
    const ranked = rerank(hits, [0.9, 0.8], successorsOf(hits), NOW);
    expect(ranked.map((h) => h.recordId)).toEqual(['new', 'old']);
    expect(ranked[1]?.supersededBy).toBe('new');
  });

  it('breaks near-ties by recency and status, without overturning clear relevance', () => {
    const hits = [
      hit('stale', 0.7, { createdAt: NOW - 720 * DAY }),
      hit('fresh', 0.69),
      hit('rejected', 0.72, { status: 'rejected' }),
      hit('best', 0.95, { createdAt: NOW - 720 * DAY, status: 'rejected' }),
    ];
    const ranked = rerank(
      hits,
      hits.map((h) => h.score),
      new Map(),
      NOW,
    );
    expect(ranked.map((h) => h.recordId)).toEqual(['best', 'fresh', 'stale', 'rejected']);
  });
});

describe('matchesFilters', () => {
  const record: RecordPayload = {
    v: 1,
    insight: 'x',
    createdAt: NOW,
    domain: 'Payments',
    status: 'accepted',
    tags: ['Redis', 'db'],
  };

  it('matches domain and tags case-insensitively, and every tag asked for', () => {
    expect(matchesFilters(record, { domain: 'payments', tags: ['redis'] })).toBe(true);
    expect(matchesFilters(record, { tags: ['redis', 'kafka'] })).toBe(false);
  });

  it('reads version-1 records without the newer fields: they match no domain or status filter', () => {
    const old: RecordPayload = { v: 1, insight: 'x', createdAt: NOW };
    expect(matchesFilters(old, {})).toBe(true);
    expect(matchesFilters(old, { status: 'accepted' })).toBe(false);
    expect(matchesFilters(old, { sinceMs: NOW + 1 })).toBe(false);
  });
});

describe('RoleCap', () => {
  it('learns the cap from the Vault refusal and from nothing else', () => {
    const cap = new RoleCap();
    expect(cap.ceiling).toBe(100);
    expect(cap.learnFrom(new RuneClientError('RATE_LIMITED', 'slow down'))).toBe(false);
    expect(
      cap.learnFrom(
        new RuneClientError('TOP_K_ABOVE_CAP', 'top-k 100 is above the cap of 10 for role "member"'),
      ),
    ).toBe(true);
    expect(cap.known).toBe(10);
  });
});

describe('history log', () => {
  it("lives in Rune's state directory unless RUNE_HISTORY names a file", () => {
    expect(defaultHistoryPath({}, '/s/rune')).toBe('/s/rune/history.jsonl');
    expect(defaultHistoryPath({ RUNE_HISTORY: '/x.jsonl' }, '/s/rune')).toBe('/x.jsonl');
  });

  it('appends 0600 JSON lines, skips a torn line, and lists own captures newest first', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rune-history-'));
    try {
      const path = join(dir, 'rune', 'history.jsonl');
      const log = new HistoryLog(path);
      const base = { v: 1, event: 'capture', indexId: 'team', novelty: 'novel' } as const;
      await log.append({ ...base, at: 1, owner: 'me', recordId: 'a', insight: 'first', domain: 'ci' });
      await log.append({ ...base, at: 2, owner: 'other', recordId: 'b', insight: 'not mine' });
      await log.append({ ...base, at: 3, owner: 'me', recordId: 'c', insight: 'third', supersedes: 'a' });
      await log.append({ v: 1, event: 'forget', at: 4, owner: 'me', indexId: 'team', recordId: 'c' });
      await appendFile(path, '{"v":1,"event":"capt');
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const items = selectHistory(await log.read(), { owner: 'me', indexId: 'team', limit: 10 });
      expect(items.map((i) => i.recordId)).toEqual(['c', 'a']);
      expect(items[0]?.isForgotten).toBe(true);
      expect(items[1]?.supersededBy).toBe('c');
      expect(
        selectHistory(await log.read(), { owner: 'me', indexId: 'team', limit: 10, domain: 'CI' }).map(
          (i) => i.recordId,
        ),
      ).toEqual(['a']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('tightens a pre-existing log file to 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rune-history-'));
    try {
      const path = join(dir, 'history.jsonl');
      await writeFile(path, '', { mode: 0o644 });
      await new HistoryLog(path).append({
        v: 1,
        event: 'forget',
        at: 1,
        owner: 'me',
        indexId: 't',
        recordId: 'x',
      });
      expect((await stat(path)).mode & 0o777).toBe(0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
