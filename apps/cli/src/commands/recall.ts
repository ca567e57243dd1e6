import { flag, intOpt, parse, stringOpt } from '../args.js';
import { usageError } from '../cli-error.js';
import { CONFIG_HELP, connectMember } from '../member.js';

export const RECALL_HELP = `rune recall — find the team's memories by meaning

Usage: rune recall QUERY [--k N] [--json]

  --k N     how many memories (default 5; at most your role's cap, 10 for members)
  --json    print the hits as JSON
${CONFIG_HELP}

Example:
  rune recall "why do payment retries back off?" --k 3`;

export async function recall(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parse('recall', argv, {
    k: { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (parsed.values.help === true) {
    process.stdout.write(`${RECALL_HELP}\n`);
    return 0;
  }
  const query = parsed.positionals.join(' ').trim();
  if (query === '')
    throw usageError('recall: a QUERY is required', 'rune recall "what did we decide about X?"');
  const k = intOpt(parsed, 'recall', 'k', 5, 1, 100);
  const { client } = await connectMember(stringOpt(parsed, 'config'), env);
  try {
    const { hits } = await client.recall(query, { k });
    if (flag(parsed, 'json')) {
      process.stdout.write(
        `${JSON.stringify({ hits: hits.map((h) => ({ recordId: h.recordId, score: h.score, ...h.record })) })}\n`,
      );
      return 0;
    }
    if (hits.length === 0) process.stdout.write('no memories found\n');
    for (const [i, hit] of hits.entries()) {
      const title = hit.record.title === undefined ? '' : ` ${hit.record.title} —`;
      process.stdout.write(
        `${i + 1}. [${hit.score.toFixed(3)}] ${hit.recordId}${title} ${hit.record.insight}\n`,
      );
      if (hit.record.context !== undefined) process.stdout.write(`   context: ${hit.record.context}\n`);
    }
    return 0;
  } finally {
    client.close();
  }
}
