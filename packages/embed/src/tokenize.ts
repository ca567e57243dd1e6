/**
 * Unicode-aware tokenisation for the lexical embedder: NFKC, lower case, runs of letters, marks and
 * digits. Scripts written without spaces (Han, kana, Hangul) are cut into overlapping character
 * bigrams, the usual dictionary-free segmentation for them; a lone such character is kept as is.
 */

/** Letters, combining marks and digits: a mark stays with its base (Devanagari vowel signs, etc.). */
const WORD_RUN = /[\p{L}\p{M}\p{N}]+/gu;
const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}ー]+/gu;

/** Function words that carry no topic; kept tiny on purpose (a later BM25 embedder replaces this). */
export const ENGLISH_STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be but by for from has have in into is it its of on or so that the their ' +
    'then there these this to was were will with we you i our'
  ).split(' '),
);

/** Tokens of `text` in reading order, stopwords removed. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const [run] of text.normalize('NFKC').toLowerCase().matchAll(WORD_RUN)) {
    let last = 0;
    for (const match of run.matchAll(CJK_RUN)) {
      pushWord(tokens, run.slice(last, match.index));
      pushBigrams(tokens, match[0]);
      last = match.index + match[0].length;
    }
    pushWord(tokens, run.slice(last));
  }
  return tokens;
}

function pushWord(tokens: string[], word: string): void {
  if (word.length > 0 && !ENGLISH_STOPWORDS.has(word)) tokens.push(word);
}

function pushBigrams(tokens: string[], run: string): void {
  // Code points, not UTF-16 units: Han extension B characters are surrogate pairs. Graphemes are
  // not needed: these scripts' runs hold no combining sequences after NFKC.
  const chars = Array.from(run);
  if (chars.length === 1) {
    tokens.push(run);
    return;
  }
  for (let i = 0; i + 1 < chars.length; i++) tokens.push(`${chars[i] ?? ''}${chars[i + 1] ?? ''}`);
}
