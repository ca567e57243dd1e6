import { MAX_TOP_K } from '@rune/protocol';
import { z } from 'zod';
import { recallMemories, type RecallResult } from '../memory/recall.js';
import type { RankedHit } from '../memory/rerank.js';
import { domainField, sinceField, sinceMs, statusField, tagsField } from './fields.js';
import { isoDate } from './format.js';
import { defineTool, okResult } from './tool.js';

const schema = z.strictObject({
  query: z
    .string()
    .trim()
    .min(1)
    .max(4096)
    .describe('What you want to know, in plain words, e.g. "why do payment retries back off exponentially?"'),
  topk: z
    .int()
    .min(1)
    .max(MAX_TOP_K)
    .default(5)
    .describe("How many memories to return (default 5; at most your role's cap, 10 for members)."),
  domain: domainField.exactOptional(),
  status: statusField.exactOptional(),
  since: sinceField.exactOptional(),
  tags: tagsField.exactOptional().describe('Only memories carrying every one of these tags.'),
});

export const recallTool = defineTool({
  name: 'recall',
  title: 'Recall team memories',
  description:
    "Search the team's encrypted memory by meaning. Use it before answering questions about " +
    'design, past decisions, conventions, incidents or "why is it like this", and before ' +
    'proposing a change that may have been decided or rejected already. Cite the record ids you ' +
    'rely on, and say so when nothing relevant comes back. Filters (domain, status, since, tags) ' +
    'narrow the results; superseded memories rank lower and name their successor.',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  inputSchema: schema,
  async run(input, ctx) {
    const since = sinceMs(input.since);
    const result = await recallMemories(ctx, {
      query: input.query,
      topk: input.topk,
      filters: {
        ...(input.domain === undefined ? {} : { domain: input.domain }),
        ...(input.status === undefined ? {} : { status: input.status }),
        ...(since === undefined ? {} : { sinceMs: since }),
        ...(input.tags === undefined ? {} : { tags: input.tags }),
      },
    });
    return okResult(describeRecall(input.query, input.topk, result), {
      hits: result.hits.map(hitStructured),
      fetched: result.fetched,
      asked: result.asked,
      ...(result.cap === undefined ? {} : { cap: result.cap }),
      mayBeIncomplete: result.mayBeIncomplete,
    });
  },
});

function describeRecall(query: string, topk: number, result: RecallResult): string {
  const lines: string[] = [];
  if (result.hits.length === 0) {
    lines.push(
      `No team memories matched "${query}". Memory on this topic is thin: say so rather than guess.`,
    );
  } else {
    lines.push(`${result.hits.length} of up to ${topk} memories for "${query}", best first:`);
    for (const [i, hit] of result.hits.entries()) lines.push(...describeHit(i + 1, hit));
  }
  if (result.mayBeIncomplete) {
    lines.push(
      `Note: the filters matched fewer than ${topk} of the ${result.fetched} closest memories (the most one recall may open); more matches may exist further down. Refine the query to reach them.`,
    );
  }
  if (result.skipped > 0)
    lines.push(
      `${result.skipped} result(s) could not be shown (forgotten meanwhile, or written by a newer client).`,
    );
  return lines.join('\n');
}

function describeHit(n: number, hit: RankedHit): string[] {
  const r = hit.record;
  const head = `${n}. [${hit.recordId}] score ${hit.score.toFixed(3)}${r.title === undefined ? '' : ` — ${r.title}`}`;
  const facts = [
    `created ${isoDate(r.createdAt).slice(0, 10)}`,
    ...(r.author === undefined ? [] : [`by ${r.author}`]),
    ...(r.domain === undefined ? [] : [`domain ${r.domain}`]),
    ...(r.status === undefined ? [] : [`status ${r.status}`]),
    ...(r.tags === undefined || r.tags.length === 0 ? [] : [`tags ${r.tags.join(', ')}`]),
    ...(r.supersedes === undefined ? [] : [`supersedes ${r.supersedes}`]),
  ];
  const lines = [head, `   ${r.insight}`];
  if (r.context !== undefined) lines.push(`   context: ${r.context}`);
  lines.push(`   (${facts.join('; ')})`);
  if (hit.supersededBy !== undefined) lines.push(`   SUPERSEDED by ${hit.supersededBy}: prefer that record.`);
  return lines;
}

function hitStructured(hit: RankedHit): Record<string, unknown> {
  return {
    recordId: hit.recordId,
    score: hit.score,
    relevance: Math.round(hit.relevance * 1000) / 1000,
    rank: Math.round(hit.rank * 1000) / 1000,
    ...hit.record,
    createdAt: isoDate(hit.record.createdAt),
    ...(hit.supersededBy === undefined ? {} : { supersededBy: hit.supersededBy }),
  };
}
