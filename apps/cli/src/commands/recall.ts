import { homedir } from 'node:os';
import { RECORD_STATUSES, defaultConfigPath, defaultStateDir, type RecordStatus } from '@rune/client';
import { flag, intOpt, listOpt, parse, stringOpt } from '../args.js';
import { usageError } from '../cli-error.js';
import { CONFIG_HELP } from '../member.js';

export const RECALL_HELP = `rune recall — find the team's memories by meaning

Usage: rune recall QUERY [--k N] [--domain D] [--status S] [--since DATE] [--tag T ...] [--json]

  --k N          how many memories (default 5; at most your role's cap, 10 for members)
  --domain D     only memories of this domain
  --status S     only proposed, accepted or rejected decisions
  --since DATE   only memories captured on or after this ISO date (e.g. 2026-01-31)
  --tag T        only memories with this tag (repeatable: all must match)
  --json         print the hits as JSON
${CONFIG_HELP}

The Vault returns the best matches it authorises; this machine opens them, applies the filters and
re-ranks them (exact text score, recency, status; a superseded memory ranks down and names its
successor) — the same path as the MCP recall tool (docs/mcp.md).

Example:
  rune recall "why do payment retries back off?" --k 3 --tag payments`;

export async function recall(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parse('recall', argv, {
    k: { type: 'string' },
    domain: { type: 'string' },
    status: { type: 'string' },
    since: { type: 'string' },
    tag: { type: 'string', multiple: true },
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
  const filters = filtersOf(parsed);
  const { memoryContext, defaultHistoryPath, recallMemories } = await import('@rune/mcp');
  const platform = process.platform;
  const stateDir = defaultStateDir({ env, platform, homedir: homedir() });
  const ctx = memoryContext({
    configPath: stringOpt(parsed, 'config') ?? defaultConfigPath({ env, platform, homedir: homedir() }),
    stateDir,
    historyPath: defaultHistoryPath(env, stateDir),
    allowEmails: false,
    log: (message) => {
      process.stderr.write(`rune: ${message}\n`);
    },
  });
  try {
    // Memory and client errors carry a stable code and a hint; the CLI's reporter prints both.
    const result = await recallMemories(ctx, { query, topk: k, filters });
    if (flag(parsed, 'json')) {
      process.stdout.write(
        `${JSON.stringify({
          hits: result.hits.map((h) => ({
            recordId: h.recordId,
            score: h.score,
            relevance: h.relevance,
            ...(h.supersededBy === undefined ? {} : { supersededBy: h.supersededBy }),
            ...h.record,
          })),
          mayBeIncomplete: result.mayBeIncomplete,
        })}\n`,
      );
      return 0;
    }
    if (result.hits.length === 0) process.stdout.write('no memories found\n');
    for (const [i, hit] of result.hits.entries()) {
      const title = hit.record.title === undefined ? '' : ` ${hit.record.title} —`;
      process.stdout.write(
        `${i + 1}. [${hit.relevance.toFixed(3)}] ${hit.recordId}${title} ${hit.record.insight}\n`,
      );
      if (hit.supersededBy !== undefined) process.stdout.write(`   superseded by ${hit.supersededBy}\n`);
      if (hit.record.context !== undefined) process.stdout.write(`   context: ${hit.record.context}\n`);
    }
    if (result.mayBeIncomplete) {
      process.stderr.write('note: the filters may have hidden further matches ranked below your role cap\n');
    }
    return 0;
  } finally {
    ctx.session.close();
  }
}

function filtersOf(parsed: ReturnType<typeof parse>) {
  const domain = stringOpt(parsed, 'domain');
  const status = stringOpt(parsed, 'status');
  const since = stringOpt(parsed, 'since');
  const tags = listOpt(parsed, 'tag');
  if (status !== undefined && !isRecordStatus(status)) {
    throw usageError(`recall: --status must be proposed, accepted or rejected (got "${status}")`);
  }
  let sinceMs: number | undefined;
  if (since !== undefined) {
    sinceMs = Date.parse(since);
    if (!/^\d{4}-\d{2}-\d{2}/.test(since) || Number.isNaN(sinceMs)) {
      throw usageError(`recall: --since must be an ISO date such as 2026-01-31 (got "${since}")`);
    }
  }
  return {
    ...(domain === undefined ? {} : { domain }),
    ...(status === undefined ? {} : { status }),
    ...(sinceMs === undefined ? {} : { sinceMs }),
    ...(tags.length === 0 ? {} : { tags }),
  };
}

function isRecordStatus(value: string): value is RecordStatus {
  return (RECORD_STATUSES as readonly string[]).includes(value);
}
