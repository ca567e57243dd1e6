import { CryptoError } from '../errors.js';

/**
 * Policy for passphrases that protect a key-set export (key-set-export.ts). A passphrase is accepted
 * when, after Unicode NFC normalisation:
 *
 *  1. it has at least MIN_PASSPHRASE_CHARS (12) characters (code points) and at most
 *     MAX_PASSPHRASE_CHARS (1024; longer is MALFORMED_INPUT, a size bound rather than weakness);
 *  2. it is not a commonly used password, ignoring case, common digit/symbol substitutions
 *     (p@ssw0rd), digits or symbols tacked on at either end (Password123!) and separators;
 *  3. it is not one short pattern repeated (abcabcabcabc, passpasspass);
 *  4. its estimated entropy is at least MIN_PASSPHRASE_BITS (50): effective length × log2(pool),
 *     where the pool sums the character classes present (lower 26, upper 26, digits 10, ASCII
 *     symbols and space 33, anything else 100) and the effective length counts a run of repeated or
 *     consecutive characters (aaaa, abcd, 4321) as 2 and a listed common word as 1.
 *
 * This is a floor against obviously guessable choices, not a strength guarantee: a 12-letter
 * dictionary word passes. Recommend generated passphrases (five or more random words).
 * Whitespace is significant and never trimmed, because the passphrase feeds the key derivation.
 */

export const MIN_PASSPHRASE_CHARS = 12;
export const MAX_PASSPHRASE_CHARS = 1024;
export const MIN_PASSPHRASE_BITS = 50;

/** Commonly used passwords and keyboard walks (folded: lowercase, letters only, after leet mapping). */
const COMMON_PASSWORDS: readonly string[] = [
  'password passphrase passwort motdepasse contrasena qwerty qwertyuiop qwertz azerty asdf asdfgh',
  'asdfghjkl zxcvbn zxcvbnm qazwsx qazwsxedc letmein welcome admin administrator root toor login master',
  'secret changeme default iloveyou loveme monkey dragon football baseball basketball soccer hockey',
  'sunshine princess trustno shadow superman batman starwars whatever freedom hello helloworld abc',
  'michael jennifer jordan hunter ranger buster tigger charlie summer winter spring autumn access flower',
  'cheese computer internet killer pepper ginger mustang matrix maggie jessica thomas george pokemon',
  'minecraft google facebook github microsoft apple samsung opensesame correcthorsebatterystaple rune',
  'runevault vault backup keyset secretkey encryption test testing example sample demo guest user',
  'username nopassword mypassword',
]
  .join(' ')
  .split(/\s+/);

/** Digit and symbol substitutions undone before comparing with the list. */
const LEET: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  '!': 'i',
  '|': 'i',
  '+': 't',
};

function fold(chars: readonly string[]): string[] {
  return chars.map((c) => LEET[c] ?? c);
}

/** Core of a candidate: lowercase, tacked-on non-letters stripped, substitutions undone, letters only. */
function core(s: string): string {
  const stripped = s.toLowerCase().replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
  return fold(Array.from(stripped))
    .join('')
    .replace(/[^\p{L}]/gu, '');
}

const COMMON_CORES: ReadonlySet<string> = new Set(COMMON_PASSWORDS.map(core));
/** Words counted as a single character by the entropy estimate; short ones would match too much. */
const COMMON_WORDS: readonly (readonly string[])[] = COMMON_PASSWORDS.filter((w) => w.length >= 4)
  .map((w) => Array.from(w))
  .sort((a, b) => b.length - a.length);

type Token = { readonly word: true } | { readonly word: false; readonly cp: number };

function tokenize(lower: readonly string[]): Token[] {
  const folded = fold(lower);
  const tokens: Token[] = [];
  for (let i = 0; i < lower.length;) {
    const match = COMMON_WORDS.find((w) => w.every((c, k) => folded[i + k] === c));
    if (match !== undefined) {
      tokens.push({ word: true });
      i += match.length;
    } else {
      tokens.push({ word: false, cp: lower[i]?.codePointAt(0) ?? 0 });
      i += 1;
    }
  }
  return tokens;
}

function poolSize(chars: readonly string[]): number {
  let lower = false;
  let upper = false;
  let digit = false;
  let symbol = false;
  let other = false;
  for (const c of chars) {
    if (c >= 'a' && c <= 'z') lower = true;
    else if (c >= 'A' && c <= 'Z') upper = true;
    else if (c >= '0' && c <= '9') digit = true;
    else if (c >= ' ' && c <= '~') symbol = true;
    else other = true;
  }
  return (lower ? 26 : 0) + (upper ? 26 : 0) + (digit ? 10 : 0) + (symbol ? 33 : 0) + (other ? 100 : 0);
}

/** The policy's entropy estimate in bits (see the module comment). Exported for tests and UIs. */
export function estimatePassphraseBits(passphrase: string): number {
  const chars = Array.from(passphrase.normalize('NFC'));
  const pool = poolSize(chars);
  if (pool === 0) return 0;
  let effective = 0;
  let prev: number | undefined;
  let prevDelta: number | undefined;
  for (const t of tokenize(chars.map((c) => c.toLowerCase()))) {
    if (t.word) {
      effective += 1;
      prev = undefined;
      prevDelta = undefined;
      continue;
    }
    const delta = prev === undefined ? undefined : t.cp - prev;
    // The third and later characters of a run with a constant step of -1, 0 or +1 add nothing.
    const continuesRun = delta !== undefined && Math.abs(delta) <= 1 && delta === prevDelta;
    if (!continuesRun) effective += 1;
    prev = t.cp;
    prevDelta = delta;
  }
  return effective * Math.log2(pool);
}

/** Smallest period p ≤ n/2 of the sequence (it is one unit repeated), or undefined. */
function repeatedUnit(chars: readonly string[]): number | undefined {
  const n = chars.length;
  for (let p = 1; p <= n / 2; p++) {
    let periodic = true;
    for (let i = p; i < n && periodic; i++) periodic = chars[i] === chars[i - p];
    if (periodic) return p;
  }
  return undefined;
}

const ADVICE = 'for example five or more random words separated by spaces or dashes';

/**
 * Throws CryptoError WEAK_PASSPHRASE, with what is wrong and how to fix it, unless the passphrase
 * meets the policy above. Never echoes the passphrase.
 */
export function assertStrongPassphrase(passphrase: unknown): asserts passphrase is string {
  if (typeof passphrase !== 'string') {
    throw new CryptoError('WEAK_PASSPHRASE', 'the passphrase must be a string');
  }
  const chars = Array.from(passphrase.normalize('NFC'));
  if (chars.length < MIN_PASSPHRASE_CHARS) {
    throw new CryptoError(
      'WEAK_PASSPHRASE',
      `the passphrase has ${chars.length} characters; use at least ${MIN_PASSPHRASE_CHARS}, ${ADVICE}`,
    );
  }
  if (chars.length > MAX_PASSPHRASE_CHARS) {
    throw new CryptoError(
      'MALFORMED_INPUT',
      `the passphrase has ${chars.length} characters; at most ${MAX_PASSPHRASE_CHARS} are accepted`,
    );
  }
  if (COMMON_CORES.has(core(chars.join('')))) {
    throw new CryptoError(
      'WEAK_PASSPHRASE',
      `the passphrase is a commonly used password (adding digits, symbols or letter substitutions does not help); choose one nobody else uses, ${ADVICE}`,
    );
  }
  const unit = repeatedUnit(chars.map((c) => c.toLowerCase()));
  if (unit !== undefined) {
    throw new CryptoError(
      'WEAK_PASSPHRASE',
      `the passphrase repeats the same ${unit}-character pattern; repetition adds almost no strength, use a passphrase without repeats, ${ADVICE}`,
    );
  }
  const bits = estimatePassphraseBits(passphrase);
  if (bits < MIN_PASSPHRASE_BITS) {
    throw new CryptoError(
      'WEAK_PASSPHRASE',
      `the passphrase is too predictable (about ${Math.floor(bits)} bits estimated, at least ${MIN_PASSPHRASE_BITS} required): ` +
        `runs such as "aaaa", "abcd" or "1234" and common words count for little, and a single character class (only digits, only lowercase) needs more length; ` +
        `make it longer with unrelated words, or mix in upper case, digits and symbols, ${ADVICE}`,
    );
  }
}
