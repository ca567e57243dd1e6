import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BM25_DIM,
  EmbedError,
  TermStats,
  bm25EmbedderId,
  createBm25Embedder,
  createLexicalEmbedder,
  exactBm25,
  similarity,
  termHash,
  type Embedder,
} from '../src/index.js';

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof EmbedError) return err.code;
    throw err;
  }
  return undefined;
}

const CORPUS = [
  'We moved Terraform state from DynamoDB locks to Terraform Cloud: five people running plan at once broke the locks.',
  'Payments: every webhook handler uses idempotency keys so retried deliveries never charge twice.',
  'Frontend state management moves from Redux to Zustand; the boilerplate slowed every feature.',
  'PostgreSQL replaces MongoDB as the primary datastore for ACID transactions in the ledger.',
  'Redis caches product pages with a 15-minute TTL; cache invalidation runs on every price change.',
  'CI builds run the unit tests in parallel shards; integration tests run nightly against staging.',
  'The on-call rotation is weekly; pages go to the secondary after 10 minutes without acknowledgement.',
  'Webhook URL validation blocks RFC 1918 ranges; deliveries go through a dedicated egress proxy.',
];

function statsFor(embedder: Embedder, docs: readonly string[]): void {
  for (const d of docs)
    embedder.termStats?.apply({ documents: 1, terms: embedder.documentTerms?.(d) ?? new Uint32Array() });
}

describe('createBm25Embedder', () => {
  it('names its algorithm and dimension in its id, and defaults to DEFAULT_BM25_DIM', () => {
    expect(bm25EmbedderId(1024)).toBe('bm25-hash-v1-d1024');
    const e = createBm25Embedder();
    expect(e.id).toBe(`bm25-hash-v1-d${DEFAULT_BM25_DIM}`);
    expect(e.dim).toBe(DEFAULT_BM25_DIM);
    expect(createBm25Embedder({ dim: 2048 }).id).toBe('bm25-hash-v1-d2048');
  });

  it('keeps the term hash stable (part of the id contract)', () => {
    // Pinned values: changing the hash silently breaks every stored vector and every TermStats.
    expect(termHash('deploy')).toBe(termHash('deploy'));
    expect([termHash(''), termHash('deploy'), termHash('#데이')]).toMatchInlineSnapshot(`
      [
        2872998923,
        3679179488,
        88847836,
      ]
    `);
  });

  it('sets termStats (its own unless given) and documentTerms', () => {
    const stats = new TermStats();
    expect(createBm25Embedder({ termStats: stats }).termStats).toBe(stats);
    const own = createBm25Embedder();
    expect(own.termStats).toBeInstanceOf(TermStats);
    expect(own.termStats).not.toBe(createBm25Embedder().termStats);
    const terms = own.documentTerms?.('deploy deploying deployed the service');
    expect(terms).toBeInstanceOf(Uint32Array);
    expect([...(terms ?? [])]).toEqual([termHash('deploy'), termHash('servic')].sort((a, b) => a - b));
  });

  it('returns deterministic unit vectors of its dimension on both sides', async () => {
    for (const dim of [32, 512, 2048]) {
      const e = createBm25Embedder({ dim });
      statsFor(e, CORPUS);
      const text = 'idempotency keys on the payment webhook handler';
      const doc = await e.embedDocument(text);
      const query = await e.embedQuery(text);
      expect(doc.length).toBe(dim);
      expect(Math.sqrt(dot(doc, doc))).toBeCloseTo(1, 5);
      expect(Math.sqrt(dot(query, query))).toBeCloseTo(1, 5);
      expect(Buffer.from((await createBm25Embedder({ dim }).embedDocument(text)).buffer)).toEqual(
        Buffer.from(doc.buffer),
      );
    }
  });

  it('ranks a small corpus like exact BM25: dot(query, doc) orders as exactBm25 does', async () => {
    const e = createBm25Embedder({ dim: 2048 });
    statsFor(e, CORPUS);
    const stats = e.termStats!;
    const docs = await Promise.all(CORPUS.map((d) => e.embedDocument(d)));
    // Clear winners only: document L2 (the engine's unit vectors) may swap BM25's near-ties, e.g.
    // "manage Terraform state" (2.29 vs 2.12) — the cost decision 0008 measures and the re-rank undoes.
    const queries = [
      'How do we handle Terraform state locks?',
      'webhook idempotency',
      'which datastore for transactions',
      'cache TTL for product pages',
      'webhook egress proxy',
    ];
    for (const q of queries) {
      const qv = await e.embedQuery(q);
      const byDot = CORPUS.map((_, i) => i).sort((a, b) => dot(qv, docs[b]!) - dot(qv, docs[a]!));
      const exact = CORPUS.map((d) => exactBm25(q, d, stats));
      const byExact = CORPUS.map((_, i) => i).sort((a, b) => exact[b]! - exact[a]!);
      expect(byDot[0], q).toBe(byExact[0]);
      // Every document BM25 scores above zero ranks above every document it scores zero.
      const matched = byExact.filter((i) => exact[i]! > 0).length;
      expect(new Set(byDot.slice(0, matched)), q).toEqual(new Set(byExact.slice(0, matched)));
    }
  });

  it('weighs query terms by IDF: a rare term beats a common one', async () => {
    const e = createBm25Embedder({ dim: 2048 });
    statsFor(e, CORPUS);
    const qv = await e.embedQuery('webhook ledger');
    // "webhook" is in 2 docs, "ledger" in 1: the ledger doc wins.
    const ledger = await e.embedDocument(CORPUS[3]!);
    const webhook = await e.embedDocument(CORPUS[1]!);
    expect(dot(qv, ledger)).toBeGreaterThan(dot(qv, webhook));
  });

  it('falls back to uniform query weights with no statistics (N = 0)', async () => {
    const e = createBm25Embedder({ dim: 2048 });
    expect(e.termStats?.documentCount).toBe(0);
    const qv = await e.embedQuery('terraform state locks');
    const nonZero = [...qv].filter((x) => x !== 0).map(Math.abs);
    expect(nonZero).toHaveLength(3);
    for (const x of nonZero) expect(x).toBeCloseTo(1 / Math.sqrt(3), 5);
    expect(dot(qv, await e.embedDocument(CORPUS[0]!))).toBeGreaterThan(
      dot(qv, await e.embedDocument(CORPUS[1]!)),
    );
  });

  it('refuses text with nothing to embed with EMBED_EMPTY_TEXT', async () => {
    const e = createBm25Embedder();
    for (const text of ['', '  ', '?!…', 'what did we do about it']) {
      await expect(e.embedDocument(text)).rejects.toMatchObject({ code: 'EMBED_EMPTY_TEXT' });
      await expect(e.embedQuery(text)).rejects.toMatchObject({ code: 'EMBED_EMPTY_TEXT' });
    }
  });

  it('refuses a dimension that is not a multiple of 32 up to 2048, saying what is allowed', () => {
    for (const dim of [0, -32, 16, 100, 33.5, 2080, 4096, Number.NaN]) {
      expect(
        codeOf(() => createBm25Embedder({ dim })),
        String(dim),
      ).toBe('EMBED_INVALID_OPTIONS');
    }
    expect(() => createBm25Embedder({ dim: 100 })).toThrow(/multiple of 32 from 32 to 2048/);
  });

  it('leaves the old lexical embedder as it was', () => {
    expect(createLexicalEmbedder().id).toBe('lexical-hash-v1-d384');
  });
});

describe('exactBm25', () => {
  it('is zero without shared terms and grows with term frequency, saturating', () => {
    const stats = new TermStats();
    expect(exactBm25('kafka', 'redis cache', stats)).toBe(0);
    const once = exactBm25('kafka', 'kafka streams', stats);
    const twice = exactBm25('kafka', 'kafka streams kafka', stats);
    const many = exactBm25('kafka', 'kafka kafka kafka kafka kafka kafka streams', stats);
    expect(once).toBeGreaterThan(0);
    expect(twice).toBeGreaterThan(once);
    expect(many).toBeLessThan(2.2); // (k1 + 1) × weight 1 (no statistics yet) bounds it
  });
});

describe('similarity', () => {
  const stats = new TermStats();
  for (const d of CORPUS) stats.apply({ documents: 1, terms: createBm25Embedder().documentTerms!(d) });

  it('is symmetric, 1 for the same text, 0 for disjoint texts', () => {
    const [a, b] = [CORPUS[0]!, CORPUS[1]!];
    expect(similarity(a, b, stats)).toBeCloseTo(similarity(b, a, stats), 12);
    expect(similarity(a, a, stats)).toBeCloseTo(1, 12);
    expect(similarity('kafka streams', 'redis cache', stats)).toBe(0);
    expect(similarity('', 'redis cache', stats)).toBe(0);
  });

  it('orders duplicate > evolution > unrelated', () => {
    const original =
      'PostgreSQL replaces MongoDB as the primary datastore for ACID transactions in the ledger.';
    const duplicate =
      'We chose PostgreSQL over MongoDB as primary datastore: the ledger needs ACID transactions.';
    const evolution =
      'We are migrating the primary datastore from PostgreSQL to CockroachDB for multi-region writes.';
    const unrelated = 'The design team adopted Figma instead of Sketch for real-time collaboration.';
    const [dup, evo, unrel] = [duplicate, evolution, unrelated].map((t) => similarity(original, t, stats));
    expect(dup).toBeGreaterThan(evo!);
    expect(evo).toBeGreaterThan(unrel!);
  });
});
