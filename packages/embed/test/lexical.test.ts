import { describe, expect, it } from 'vitest';
import { EmbedError, createLexicalEmbedder, embedLexical, l2Normalize } from '../src/index.js';

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function norm(a: Float32Array): number {
  return Math.sqrt(dot(a, a));
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

describe('createLexicalEmbedder', () => {
  const embedder = createLexicalEmbedder();

  it('names its algorithm and dimension in its id', () => {
    expect(embedder.id).toBe('lexical-hash-v1-d384');
    expect(embedder.dim).toBe(384);
    expect(createLexicalEmbedder({ dim: 768 }).id).toBe('lexical-hash-v1-d768');
  });

  it('returns the same vector for the same text, across instances', async () => {
    const text = 'Use idempotency keys on the payment webhook handler';
    const a = await embedder.embedDocument(text);
    const b = await createLexicalEmbedder().embedDocument(text);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(await embedder.embedQuery(text)).toEqual(a);
  });

  it('returns unit vectors of the configured dimension', async () => {
    for (const dim of [32, 384, 1024]) {
      const v = await createLexicalEmbedder({ dim }).embedDocument('retry with exponential backoff');
      expect(v).toBeInstanceOf(Float32Array);
      expect(v.length).toBe(dim);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
  });

  it('scores related texts above unrelated ones', async () => {
    const doc = await embedder.embedDocument(
      'We chose PostgreSQL advisory locks for the leader lease because the Vault already depends on PostgreSQL',
    );
    const related = await embedder.embedQuery('why postgresql locks for leader election');
    const unrelated = await embedder.embedQuery('css grid layout breaks on safari mobile');
    expect(dot(doc, related)).toBeGreaterThan(0.3);
    expect(dot(doc, related)).toBeGreaterThan(dot(doc, unrelated) + 0.2);
  });

  it('embeds CJK text into a non-zero vector that matches related CJK text', async () => {
    const doc = await embedder.embedDocument('数据库迁移必须先备份');
    const related = await embedder.embedQuery('数据库迁移');
    const unrelated = await embedder.embedQuery('前端样式');
    expect(norm(doc)).toBeCloseTo(1, 5);
    expect(doc.some((x) => x !== 0)).toBe(true);
    expect(dot(doc, related)).toBeGreaterThan(dot(doc, unrelated));
  });

  it('refuses empty, punctuation-only and stopword-only text with EMBED_EMPTY_TEXT', async () => {
    for (const text of ['', '   ', '?!…', 'the and of it']) {
      await expect(embedder.embedDocument(text)).rejects.toMatchObject({ code: 'EMBED_EMPTY_TEXT' });
    }
  });

  it('refuses a dimension out of range with EMBED_INVALID_OPTIONS', () => {
    for (const dim of [0, -1, 1.5, 4097]) {
      expect(codeOf(() => createLexicalEmbedder({ dim }))).toBe('EMBED_INVALID_OPTIONS');
    }
  });

  it('weighs repeated words sublinearly', () => {
    const once = embedLexical('cache', 64);
    const many = embedLexical('cache cache cache cache other', 64);
    const other = embedLexical('other', 64);
    // With raw counts "cache" would dominate at 4:1; with 1 + ln 4 ≈ 2.39 it stays within 3:1.
    expect(dot(many, once) / dot(many, other)).toBeLessThan(3);
  });
});

describe('l2Normalize', () => {
  it('scales to unit length', () => {
    expect(Array.from(l2Normalize([3, 4]))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
  });

  it('refuses the zero vector and non-finite coordinates with EMBED_INVALID_VECTOR', () => {
    expect(codeOf(() => l2Normalize([0, 0]))).toBe('EMBED_INVALID_VECTOR');
    expect(codeOf(() => l2Normalize([1, Number.NaN]))).toBe('EMBED_INVALID_VECTOR');
  });
});
