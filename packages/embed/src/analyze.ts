import stem from 'wink-porter2-stemmer';

/**
 * The analysis of the BM25-shaped embedder (recipe "emb2"): NFKC, word runs split at camelCase,
 * lower case, a stop list, Porter2 stems for Latin words, and for scripts written without spaces
 * (Hangul, kana, Han) the word itself plus character 2–3-grams at a lower weight. Part of the
 * embedder id's contract: a change here needs a new id.
 */

/** Weight of one character n-gram occurrence against a word's 1. */
export const CJK_NGRAM_WEIGHT = 0.3;
/** Keeps a 2-gram apart from a two-character word of the same text; no word run holds '#'. */
const NGRAM_PREFIX = '#';

/** Letters, combining marks and digits: a mark stays with its base (Devanagari vowel signs, etc.). */
const WORD_RUN = /[\p{L}\p{M}\p{N}]+/gu;
const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}ー]+/gu;
/** camelCase and acronym boundaries: "parseHTTPResponse" → parse, HTTP, Response; digits stay ("s3", "v2"). */
const CAMEL_PART =
  /\p{Lu}+(?=\p{Lu}\p{Ll})|\p{Lu}?\p{Ll}[\p{Ll}\p{M}\p{N}]*|\p{Lu}+[\p{M}\p{N}]*|[^\p{Lu}\p{Ll}]+/gu;
const LATIN_WORD = /^[\p{Script=Latin}\p{M}\p{N}]+$/u;

/**
 * English function words, question words and the filler of chat-style queries ("what did we decide
 * about …", "do we still use …"): they match every record and only add collision noise.
 */
export const BM25_STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again against all also am an and any are as at be because been before ' +
    'being below between both but by can could did do does doing done down during each either ' +
    'else etc ever every few for from further get gets got had has have having he her here hers ' +
    'herself him himself his how however i if in into is it its itself just least let like may me ' +
    'might more most much must my myself neither no nor not now of off often on once only or other ' +
    'ought our ours ourselves out over own per please quite rather really same shall she should ' +
    'since so some still such than that the their theirs them themselves then there therefore ' +
    'these they this those though through thus to too under until up upon us use used using very ' +
    'via was we were what whatever when whenever where wherever whether which while who whoever ' +
    'whom whose why will with within without would yet you your yours yourself yourselves ' +
    'currently anything something everything nothing anyone someone thing things ' +
    // French function words: without them two unrelated French texts overlap on "le", "des", "pour"…
    'le la les un une des du de et à au aux en est sont ce cet cette ces qui que quoi dont où ' +
    'dans pour par sur avec sans sous entre mais ou donc ni car ne pas plus son sa ses leur leurs ' +
    'nous vous il elle ils elles on notre nos votre vos se été être avoir ont avons très'
  ).split(' '),
);

/** A text's terms: term → summed occurrence weight (its tf), and the document length in words. */
export interface Analysis {
  readonly terms: ReadonlyMap<string, number>;
  /** Word occurrences after stop words (n-grams not counted): BM25's document length. */
  readonly length: number;
}

/**
 * Recent analyses by text: a recall analyses the same opened records again for the re-rank and
 * novelty, and stemming dominates the cost. Bounded; the oldest entry goes first.
 */
const cache = new Map<string, Analysis>();
const CACHE_ENTRIES = 512;

/** Analyses `text`; an empty result (no terms) is the caller's to refuse. */
export function analyze(text: string): Analysis {
  const cached = cache.get(text);
  if (cached !== undefined) return cached;
  const analysis = analyzeUncached(text);
  if (cache.size >= CACHE_ENTRIES) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(text, analysis);
  return analysis;
}

function analyzeUncached(text: string): Analysis {
  const terms = new Map<string, number>();
  let length = 0;
  const add = (term: string, weight: number) => terms.set(term, (terms.get(term) ?? 0) + weight);
  for (const [run] of text.normalize('NFKC').matchAll(WORD_RUN)) {
    let last = 0;
    for (const match of run.matchAll(CJK_RUN)) {
      length += addWords(run.slice(last, match.index), add);
      addCjkWord(match[0], add);
      length += 1;
      last = match.index + match[0].length;
    }
    length += addWords(run.slice(last), add);
  }
  return { terms, length };
}

/** Terms of the text in `analyze`'s sense, flattened for tests and debugging: term → tf. */
export function analyzeTerms(text: string): Record<string, number> {
  return Object.fromEntries(analyze(text).terms);
}

/** Whether a term is a character n-gram (weighted CJK_NGRAM_WEIGHT) rather than a word. */
export function isNgramTerm(term: string): boolean {
  return term.startsWith(NGRAM_PREFIX);
}

function addWords(run: string, add: (term: string, weight: number) => void): number {
  let words = 0;
  for (const [part] of run.matchAll(CAMEL_PART)) {
    const word = part.toLowerCase();
    if (BM25_STOPWORDS.has(word)) continue;
    add(LATIN_WORD.test(word) ? stem(word) : word, 1);
    words += 1;
  }
  return words;
}

function addCjkWord(run: string, add: (term: string, weight: number) => void): void {
  // Code points, not UTF-16 units: Han extension B characters are surrogate pairs.
  const chars = Array.from(run.toLowerCase());
  add(chars.join(''), 1);
  if (chars.length < 3) return;
  for (let n = 2; n <= 3; n++) {
    for (let i = 0; i + n <= chars.length; i++) {
      add(`${NGRAM_PREFIX}${chars.slice(i, i + n).join('')}`, CJK_NGRAM_WEIGHT);
    }
  }
}
