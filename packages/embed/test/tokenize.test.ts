import { describe, expect, it } from 'vitest';
import { fnv1a32, tokenize } from '../src/index.js';

describe('tokenize', () => {
  it('lower-cases, applies NFKC and drops punctuation and stopwords', () => {
    expect(tokenize('The ＣＡＣＨＥ is keyed by tenant-ID, not by user!')).toEqual([
      'cache',
      'keyed',
      'tenant',
      'id',
      'not',
      'user',
    ]);
  });

  it('keeps letters with their combining marks and digits in one token', () => {
    expect(tokenize('cafe\u0301 v2 हिन्दी')).toEqual(['café', 'v2', 'हिन्दी']);
  });

  it('cuts Han, kana and Hangul runs into character bigrams', () => {
    expect(tokenize('数据库迁移')).toEqual(['数据', '据库', '库迁', '迁移']);
    expect(tokenize('캐시 무효화')).toEqual(['캐시', '무효', '효화']);
    expect(tokenize('キャッシュ')).toEqual(['キャ', 'ャッ', 'ッシ', 'シュ']);
  });

  it('splits a run mixing Latin and CJK, and keeps a lone CJK character', () => {
    expect(tokenize('redis缓存 和 db')).toEqual(['redis', '缓存', '和', 'db']);
  });

  it('treats a surrogate-pair character as one character', () => {
    expect(tokenize('𠀀𠀁')).toEqual(['𠀀𠀁']);
  });
});

describe('fnv1a32', () => {
  it('matches the published FNV-1a 32 test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });
});
