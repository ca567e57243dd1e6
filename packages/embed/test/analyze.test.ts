import { describe, expect, it } from 'vitest';
import { BM25_STOPWORDS, CJK_NGRAM_WEIGHT, analyze, analyzeTerms } from '../src/index.js';

describe('analyze (the BM25 embedder analysis)', () => {
  it('reduces Latin words to their Porter2 stems', () => {
    expect(Object.keys(analyzeTerms('deploying deployments deployed'))).toEqual(['deploy']);
    expect(analyzeTerms('caching cached caches')).toEqual({ cach: 3 });
  });

  it('drops stop words, question words and chat filler', () => {
    expect(analyzeTerms('What did we decide about the database, and why do we still use it?')).toEqual({
      decid: 1,
      databas: 1,
    });
    expect(BM25_STOPWORDS.size).toBeGreaterThan(150);
    expect(analyze('what how why is the').terms.size).toBe(0);
  });

  it('splits camelCase, acronyms and keeps digits with their letters', () => {
    expect(Object.keys(analyzeTerms('parseHTTPResponse'))).toEqual(['pars', 'http', 'respons']);
    expect(analyzeTerms('s3Bucket v2 HTTP2 2024')).toEqual({ s3: 1, bucket: 1, v2: 1, http2: 1, 2024: 1 });
  });

  it('normalises with NFKC before anything else', () => {
    // Full-width Latin and the "ﬁ" ligature fold to plain ASCII.
    expect(analyzeTerms('ＰｏｓｔｇｒｅＳＱＬ ﬁle')).toEqual(analyzeTerms('PostgreSQL file'));
  });

  it('gives Hangul, kana and Han runs the word plus character 2–3-grams at a lower weight', () => {
    const terms = analyzeTerms('데이터베이스 東京');
    expect(terms['데이터베이스']).toBe(1);
    expect(terms['#데이']).toBe(CJK_NGRAM_WEIGHT);
    expect(terms['#데이터']).toBe(CJK_NGRAM_WEIGHT);
    expect(terms['#이스']).toBe(CJK_NGRAM_WEIGHT);
    // A two-character word is its own only term: its one 2-gram would repeat it.
    expect(terms['東京']).toBe(1);
    expect(Object.keys(terms).filter((t) => t.includes('東'))).toEqual(['東京']);
  });

  it('cuts a CJK run out of a mixed word and keeps Latin text apart', () => {
    const terms = analyzeTerms('PostgreSQL로 마이그레이션');
    expect(terms.postgr).toBe(1);
    expect(terms.sql).toBe(1);
    expect(terms['로']).toBe(1);
    expect(terms['마이그레이션']).toBe(1);
  });

  it('counts document length in words, not n-grams', () => {
    expect(analyze('deploy the service twice: deploy').length).toBe(4);
    expect(analyze('데이터베이스 마이그레이션').length).toBe(2);
  });

  it('returns the same terms for equal texts, cached or not', () => {
    const text = 'Use idempotency keys on the payment webhook handler';
    const first = analyzeTerms(text);
    // Enough other texts to push the first out of the bounded cache.
    for (let i = 0; i < 600; i++) analyze(`filler text number ${i}`);
    expect(analyzeTerms(text)).toEqual(first);
    expect(first).toEqual({ idempot: 1, key: 1, payment: 1, webhook: 1, handler: 1 });
  });
});
