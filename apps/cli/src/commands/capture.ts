import { flag, listOpt, parse, stringOpt } from '../args.js';
import { usageError } from '../cli-error.js';
import { CONFIG_HELP, connectMember } from '../member.js';

export const CAPTURE_HELP = `rune capture — store a memory for the team (embedded, encrypted and sealed on this machine)

Usage: rune capture --insight TEXT [--context TEXT] [--title TEXT] [--tag TAG ...] [--json]

  --insight TEXT  a self-contained paragraph: what was decided and why (this is what recall matches)
  --context TEXT  background kept with the memory but not matched
  --title TEXT    short title
  --tag TAG       tag (repeatable)
  --json          print the result as JSON
${CONFIG_HELP}

Example:
  rune capture --insight "Retries on the payment API use exponential backoff capped at 30 s because the provider rate-limits bursts" --tag payments`;

export async function capture(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parse('capture', argv, {
    insight: { type: 'string' },
    context: { type: 'string' },
    title: { type: 'string' },
    tag: { type: 'string', multiple: true },
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
  const { client } = await connectMember(stringOpt(parsed, 'config'), env);
  try {
    const out = await client.capture({
      insight,
      ...(context === undefined ? {} : { context }),
      ...(title === undefined ? {} : { title }),
      ...(tags.length === 0 ? {} : { tags }),
    });
    if (flag(parsed, 'json')) process.stdout.write(`${JSON.stringify({ recordId: out.recordId })}\n`);
    else process.stdout.write(`captured ${out.recordId}\n`);
    return 0;
  } finally {
    client.close();
  }
}
