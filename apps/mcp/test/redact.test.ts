import { describe, expect, it } from 'vitest';
import { describeCounts, redactText } from '../src/memory/redact.js';

const SECRETS: readonly (readonly [string, string, string])[] = [
  ['an OpenAI key', `use sk-proj-${'a1B2c3D4e5'.repeat(4)} for the bot`, 'api_key'],
  ['an Anthropic key', `ANTHROPIC said sk-ant-api03-${'Zz9_x'.repeat(8)}`, 'api_key'],
  ['a GitHub token', `clone with ghp_${'A1b2C3d4E5f6'.repeat(3)}`, 'api_key'],
  ['a Slack token', 'slack xoxb-1234567890-abcdefghijkl posts alerts', 'api_key'],
  ['an AWS access key id', 'the key AKIAIOSFODNN7EXAMPLE was leaked', 'api_key'],
  ['a Rune member token', `token rune_${'x'.repeat(43)} in a config`, 'api_key'],
  [
    'a JWT',
    'cookie eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U set',
    'jwt',
  ],
  ['a bearer token', 'curl -H "Authorization: Bearer abcdefghijklmnop1234"', 'bearer_token'],
  ['a password assignment', 'login with password=hunter2 on staging', 'password'],
  [
    'a connection string password',
    'DATABASE_URL=postgres://app:s3cr3t-Pw@db.internal:5432/app',
    'connection_password',
  ],
  ['a high-entropy secret assignment', 'set WEBHOOK_SECRET=9f8A7b6C5d4E3f2G1h_Zq', 'secret'],
  [
    'a PEM private key',
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----',
    'private_key',
  ],
  ['an e-mail address', 'ask jane.doe@example.com about it', 'email'],
];

describe('redactText', () => {
  for (const [what, text, kind] of SECRETS) {
    it(`redacts ${what} and counts it as ${kind}`, () => {
      const out = redactText(text);
      expect(out.counts[kind as keyof typeof out.counts]).toBeGreaterThanOrEqual(1);
      expect(out.text).toContain(`[REDACTED:${kind}]`);
    });
  }

  it('never leaves the secret itself in the text', () => {
    const out = redactText('password=hunter2 and sk-proj-AAAABBBBCCCCDDDDEEEE1234 and a@b.io');
    expect(out.text).not.toMatch(/hunter2|AAAABBBB|a@b\.io/);
    expect(describeCounts(out.counts)).toBe('1 api_key, 1 password, 1 email');
  });

  it('keeps the user part of a connection string and the host', () => {
    expect(redactText('mysql://root:pa55word@localhost/db').text).toBe(
      'mysql://root:[REDACTED:connection_password]@localhost/db',
    );
  });

  it('redacts the shapes a review found slipping through', () => {
    const cases: readonly (readonly [string, string])[] = [
      ['redis://:s3cretPass@cache.internal:6379', 's3cretPass'],
      ['postgres://admin:ab/cd+ef@db.internal/app', 'ab/cd+ef'],
      ['postgres://admin:p@ss@db.internal/app', 'p@ss'],
      ['AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==;EndpointSuffix=core', 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA=='],
      ['ENCRYPTION_KEY=9f8e7d6c5b4a39281706f5e4d3c2b1a0', '9f8e7d6c5b4a39281706f5e4d3c2b1a0'],
      ['BACKUP_PASSPHRASE=Tr0ub4dor&3', 'Tr0ub4dor&3'],
      ['Authorization: Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA=='],
      ['xapp-1-A0123456789-0123456789012-abcdef', 'A0123456789-0123456789012'],
      ['https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX', 'T000/B000/XXXXXXXXXXXX'],
      ['SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', 'abcdefghijklmnopqrstuv'],
      ['whsec_abcdefghijklmnopqrstuvwx', 'abcdefghijklmnopqrstuvwx'],
      ['-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAtruncatedhere', 'MIIEowIBAAKCAQEA'],
    ];
    for (const [text, secret] of cases) {
      const out = redactText(text, { allowEmails: true });
      expect(out.text, text).not.toContain(secret);
      expect(Object.keys(out.counts).length, text).toBeGreaterThan(0);
    }
  });

  it('does not take a port or ordinary words about keys for secrets', () => {
    for (const text of [
      'https://example.com:8443/path@v2 is the mirror',
      'The primary key is id; keyboard shortcuts and the monkey key idea stay.',
    ]) {
      expect(redactText(text, { allowEmails: true }).text).toBe(text);
    }
  });

  it('keeps e-mail addresses when the team allows them', () => {
    const out = redactText('mail ops@example.com', { allowEmails: true });
    expect(out.text).toBe('mail ops@example.com');
    expect(out.counts).toEqual({});
  });

  it('leaves ordinary engineering prose alone', () => {
    const prose =
      'We chose token buckets for rate limiting: the secret: simplicity. Passwords are hashed with argon2id; ' +
      'the API key rotation runs monthly. See docs/auth.md and issue #42.';
    const out = redactText(prose);
    expect(out.text).toBe(prose);
    expect(describeCounts(out.counts)).toBeUndefined();
  });

  it('is idempotent', () => {
    const once = redactText('password=hunter22 user@example.org').text;
    const twice = redactText(once);
    expect(twice.text).toBe(once);
    expect(twice.counts).toEqual({});
  });
});
