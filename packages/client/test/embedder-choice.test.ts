import { createLexicalEmbedder } from '@rune/embed';
import { describe, expect, it } from 'vitest';
import { chooseEmbedder } from '../src/index.js';
import { caught, sampleConfig } from './helpers.js';

describe('chooseEmbedder', () => {
  it('builds the lexical embedder the config names, at its dimension', () => {
    const embedder = chooseEmbedder(sampleConfig({ embedder: { id: 'lexical-hash-v1-d768', dim: 768 } }));
    expect(embedder.id).toBe('lexical-hash-v1-d768');
    expect(embedder.dim).toBe(768);
  });

  it('defaults to the 384-d lexical embedder when the config names none', () => {
    const config = sampleConfig();
    delete config.embedder;
    expect(chooseEmbedder(config).id).toBe('lexical-hash-v1-d384');
  });

  it("takes the caller's embedder when it matches the config", () => {
    const given = createLexicalEmbedder();
    expect(chooseEmbedder(sampleConfig(), given)).toBe(given);
  });

  it('refuses a mismatch, a dimension that disagrees with the id, and an unknown embedder', async () => {
    const given = createLexicalEmbedder({ dim: 256 });
    expect((await caught(() => chooseEmbedder(sampleConfig(), given))).code).toBe('EMBEDDER_MISMATCH');
    const skewed = sampleConfig({ embedder: { id: 'lexical-hash-v1-d384', dim: 256 } });
    expect((await caught(() => chooseEmbedder(skewed))).code).toBe('EMBEDDER_UNAVAILABLE');
    const model = sampleConfig({ embedder: { id: 'bge-small-en-v1.5', dim: 384 } });
    expect((await caught(() => chooseEmbedder(model))).code).toBe('EMBEDDER_UNAVAILABLE');
  });
});
