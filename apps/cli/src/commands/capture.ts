import { flag, listOpt, parse, stringOpt } from '../args.js';
import { usageError } from '../cli-error.js';
import { CONFIG_HELP, connectMember } from '../member.js';

export const CAPTURE_HELP = `rune capture — store a memory for the team (embedded, encrypted and sealed on this machine)

Usage: rune capture --insight TEXT [--context TEXT] [--title TEXT] [--tag TAG ...] [--json]

  --insight TEXT  a self-contained paragraph: what was decided and why (this is what recall matches)
  --context TEXT  background kept with the memory but not matched
  --title TEXT    short title
  --tag TAG       tag (repeatable)
  --allow-emails  keep e-mail addresses (the team allows them; also RUNE_ALLOW_EMAILS=1)
  --json          print the result as JSON

Secrets in any field (API keys, tokens, passwords, private keys, e-mail addresses) are replaced by
[REDACTED:kind] before anything is embedded or encrypted; the output says what was redacted.
${CONFIG_HELP}

Example:
  rune capture --insight "Retries on the payment API use exponential backoff capped at 30 s because the provider rate-limits bursts" --tag payments`;

export async function capture(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parse('capture', argv, {
    insight: { type: 'string' },
    context: { type: 'string' },
    title: { type: 'string' },
    tag: { type: 'string', multiple: true },
    'allow-emails': { type: 'boolean' },
    config: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (parsed.values.help === true) {
    process.stdout.write(`${CAPTURE_HELP}\n`);
    return 0;
  }
  const insight = stringOpt(parsed, 'insight')?.trim() ?? '';
  if (insight === '') throw usageError('capture: --insight TEXT is required and must not be blank');
  if (parsed.positionals.length > 0) {
    throw usageError(
      `capture: unexpected argument "${parsed.positionals[0] ?? ''}"`,
      'quote the insight: --insight "..."',
    );
  }
  const context = stringOpt(parsed, 'context');
  const title = stringOpt(parsed, 'title');
  const tags = listOpt(parsed, 'tag');
  const allowEmails = flag(parsed, 'allow-emails') || /^(1|true|yes|on)$/i.test(env.RUNE_ALLOW_EMAILS ?? '');
  // The same redaction as the MCP capture tool, before the text reaches the embedder or the seal.
  const { redactRequest } = await import('@rune/mcp');
  const { fields, redacted } = redactRequest(
    {
      insight,
      ...(context === undefined ? {} : { context }),
      ...(title === undefined ? {} : { title }),
      ...(tags.length === 0 ? {} : { tags }),
    },
    allowEmails,
  );
  const { client } = await connectMember(stringOpt(parsed, 'config'), env);
  try {
    const out = await client.capture({
      insight: fields.insight,
      ...(fields.context === undefined ? {} : { context: fields.context }),
      ...(fields.title === undefined ? {} : { title: fields.title }),
      ...(fields.tags === undefined ? {} : { tags: [...fields.tags] }),
    });
    if (flag(parsed, 'json')) {
      process.stdout.write(`${JSON.stringify({ recordId: out.recordId, redacted })}\n`);
      return 0;
    }
    process.stdout.write(`captured ${out.recordId}\n`);
    const kinds = Object.entries(redacted).map(([kind, count]) => `${String(count)} ${kind}`);
    if (kinds.length > 0) process.stdout.write(`redacted before encryption: ${kinds.join(', ')}\n`);
    return 0;
  } finally {
    client.close();
  }
}
