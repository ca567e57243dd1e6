/**
 * Secret redaction, applied to every text field before anything is embedded or encrypted: what
 * is redacted never leaves this machine, even sealed. Reports count by kind, never the secret.
 */

export const REDACTION_KINDS = [
  'private_key',
  'jwt',
  'api_key',
  'bearer_token',
  'connection_password',
  'password',
  'secret',
  'email',
] as const;
export type RedactionKind = (typeof REDACTION_KINDS)[number];

export type RedactionCounts = Partial<Record<RedactionKind, number>>;

export interface RedactOptions {
  /** The team allows e-mail addresses in memories (default: they are redacted). */
  readonly allowEmails?: boolean;
}

export interface Redacted {
  readonly text: string;
  readonly counts: RedactionCounts;
}

const marker = (kind: RedactionKind): string => `[REDACTED:${kind}]`;

/** Whole-match rules, in order: PEM blocks first so their base64 is not half-matched by others. */
const WHOLE: readonly (readonly [RedactionKind, RegExp])[] = [
  [
    'private_key',
    // A block cut before its END line still goes, to the end of the text.
    /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|$)/g,
  ],
  ['jwt', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g],
  [
    'api_key',
    new RegExp(
      [
        String.raw`\bsk-(?:proj-|ant-(?:api\d+-)?|live-)?[A-Za-z0-9_-]{20,}`, // OpenAI, Anthropic
        String.raw`\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}`, // Stripe
        String.raw`\bgh[pousr]_[A-Za-z0-9]{30,}`, // GitHub tokens
        String.raw`\bgithub_pat_[A-Za-z0-9_]{22,}`,
        String.raw`\bglpat-[A-Za-z0-9_-]{20,}`, // GitLab
        String.raw`\bxox[abposre]-[A-Za-z0-9-]{10,}`, // Slack
        String.raw`\bxapp-[A-Za-z0-9-]{10,}`, // Slack app-level tokens
        String.raw`\bhooks\.slack\.com/services/[A-Za-z0-9/_-]+`, // Slack webhooks (the URL is the secret)
        String.raw`\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}`, // SendGrid
        String.raw`\bwhsec_[A-Za-z0-9+/=]{16,}`, // Stripe webhook signing secrets
        String.raw`\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b`, // AWS access key ids
        String.raw`\bAIza[0-9A-Za-z_-]{35}`, // Google
        String.raw`\bnpm_[A-Za-z0-9]{36}`,
        String.raw`\brune_[A-Za-z0-9_-]{43}`, // Rune member tokens
      ].join('|'),
      'g',
    ),
  ],
  ['bearer_token', /\b(?<=Bearer\s+)[A-Za-z0-9._~+/-]{16,}=*/gi],
  ['bearer_token', /\b(?<=Basic\s+)[A-Za-z0-9+/]{8,}={0,2}/g], // HTTP Basic credentials
];

/**
 * scheme://user:PASSWORD@host — only the password goes. The user may be empty (redis://:pw@host)
 * and the password may hold "/" or "@": it runs to the last "@" before the host.
 */
const CONNECTION = /\b([a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/@]*:)(\S+)(@[^\s@/]+)/gi;

/** NAME = value / NAME: value where NAME says password, secret, token or key. */
const ASSIGNMENT =
  /\b([A-Za-z0-9_.-]*?(passw(?:or)?d|passwd|pwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|(?<=^|[_.-])key(?![A-Za-z])|accountkey|credentials?)[A-Za-z0-9_.-]*)(["']?\s*[:=]\s*)("[^"\n]*"|'[^'\n]*'|[^\s,;&"'<>)\]}]+)/gi;

const EMAIL = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g;

/** Redacts every known secret shape in `text`. Idempotent: markers are never redacted again. */
export function redactText(text: string, options: RedactOptions = {}): Redacted {
  const counts: RedactionCounts = {};
  const bump = (kind: RedactionKind) => (counts[kind] = (counts[kind] ?? 0) + 1);
  let out = text;
  for (const [kind, pattern] of WHOLE) {
    out = out.replace(pattern, () => {
      bump(kind);
      return marker(kind);
    });
  }
  out = out.replace(CONNECTION, (whole, head: string, password: string, at: string) => {
    // host:PORT/path@x is a port, not a password.
    if (/^\d{1,5}(?:\/|$)/.test(password)) return whole;
    bump('connection_password');
    return `${head}${marker('connection_password')}${at}`;
  });
  out = out.replace(ASSIGNMENT, (whole, name: string, word: string, sep: string, value: string) => {
    const bare = value.replace(/^["']|["']$/g, '');
    if (bare.startsWith('[REDACTED:') || bare === '') return whole;
    const isPassword = /^(passw(or)?d|passwd|pwd|passphrase)$/i.test(word);
    // Prose such as "the token: we rotate it" is not a secret; a key-like value is.
    if (!isPassword && !looksLikeSecret(bare)) return whole;
    if (isPassword && bare.length < 4) return whole;
    const kind: RedactionKind = isPassword ? 'password' : 'secret';
    bump(kind);
    return `${name}${sep}${marker(kind)}`;
  });
  if (options.allowEmails !== true) {
    out = out.replace(EMAIL, () => {
      bump('email');
      return marker('email');
    });
  }
  return { text: out, counts };
}

/** Adds `more` into `into`. */
export function mergeCounts(into: RedactionCounts, more: RedactionCounts): RedactionCounts {
  for (const kind of REDACTION_KINDS) {
    const n = more[kind];
    if (n !== undefined) into[kind] = (into[kind] ?? 0) + n;
  }
  return into;
}

/** "2 api_key, 1 email", or undefined when nothing was redacted. */
export function describeCounts(counts: RedactionCounts): string | undefined {
  const parts = REDACTION_KINDS.flatMap((kind) => {
    const n = counts[kind];
    return n === undefined ? [] : [`${n} ${kind}`];
  });
  return parts.length === 0 ? undefined : parts.join(', ');
}

/** At least 12 characters of mixed classes with high per-character entropy: a key, not a word. */
function looksLikeSecret(value: string): boolean {
  if (value.length < 12) return false;
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(value)).length;
  return classes >= 2 && shannonBitsPerChar(value) >= 3;
}

function shannonBitsPerChar(value: string): number {
  const freq = new Map<string, number>();
  for (const ch of value) freq.set(ch, (freq.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of freq.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}
