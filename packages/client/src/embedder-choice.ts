import { createLexicalEmbedder, lexicalEmbedderId, type Embedder } from '@rune/embed';
import { RuneClientError } from './errors.js';
import type { MemberConfig } from './member-config.js';

const LEXICAL_ID = /^lexical-hash-v1-d(\d{1,4})$/;

/**
 * The embedder to use: the caller's, checked against the config; else the one the config names,
 * when this package can build it; else the default lexical one. Vectors of another embedder would
 * be stored and searched without error and simply never match, hence the hard refusal.
 */
export function chooseEmbedder(config: MemberConfig, given?: Embedder): Embedder {
  const named = config.embedder;
  if (given !== undefined) {
    if (named !== undefined && (given.id !== named.id || given.dim !== named.dim)) {
      throw mismatch(
        `the member config names embedder ${named.id} (d=${named.dim}); got ${given.id} (d=${given.dim})`,
      );
    }
    return given;
  }
  if (named === undefined) return createLexicalEmbedder();
  if (LEXICAL_ID.test(named.id) && lexicalEmbedderId(named.dim) === named.id) {
    return createLexicalEmbedder({ dim: named.dim });
  }
  throw new RuneClientError(
    'EMBEDDER_UNAVAILABLE',
    `the member config names embedder ${named.id} (d=${named.dim}), which this client cannot build by itself`,
    {
      hint: 'install or configure that embedder (e.g. `rune configure --embedder …`), or pass one to connect()',
    },
  );
}

function mismatch(message: string): RuneClientError {
  return new RuneClientError('EMBEDDER_MISMATCH', message, {
    hint: 'use the embedder the index was created with; vectors of different embedders never match',
  });
}
