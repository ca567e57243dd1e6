import { z } from 'zod';
import { selectHistory, type HistoryItem } from '../memory/history-log.js';
import { domainField, sinceField, sinceMs, statusField, tagsField } from './fields.js';
import { isoDate } from './format.js';
import { defineTool, okResult } from './tool.js';

const schema = z.strictObject({
  limit: z
    .int()
    .min(1)
    .max(200)
    .default(20)
    .describe('How many captures to list, newest first (default 20).'),
  domain: domainField.exactOptional(),
  status: statusField.exactOptional(),
  since: sinceField.exactOptional(),
  tags: tagsField.exactOptional().describe('Only captures carrying every one of these tags.'),
});

export const historyTool = defineTool({
  name: 'history',
  title: 'My recent captures',
  description:
    'List the memories you (this member, from this machine) captured recently, newest first, from ' +
    'a local log. Use it to check what was already captured in this session or lately, to find a ' +
    'record id to forget or supersede, or to avoid capturing the same thing twice. It does not ' +
    "search the team's memory: use recall for that.",
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  inputSchema: schema,
  async run(input, ctx) {
    const config = await ctx.session.config();
    const since = sinceMs(input.since);
    const items = selectHistory(await ctx.history.read(), {
      owner: await ctx.session.owner(),
      indexId: config.indexId,
      limit: input.limit,
      ...(input.domain === undefined ? {} : { domain: input.domain }),
      ...(input.status === undefined ? {} : { status: input.status }),
      ...(since === undefined ? {} : { sinceMs: since }),
      ...(input.tags === undefined ? {} : { tags: input.tags }),
    });
    const text =
      items.length === 0
        ? `No captures of yours in the local log (${ctx.history.path}) match.`
        : [`${items.length} of your captures, newest first:`, ...items.map(describeItem)].join('\n');
    return okResult(text, {
      path: ctx.history.path,
      items: items.map((i) => ({ ...i, at: isoDate(i.at) })),
    });
  },
});

function describeItem(item: HistoryItem, i: number): string {
  const marks = [
    item.novelty,
    ...(item.domain === undefined ? [] : [`domain ${item.domain}`]),
    ...(item.status === undefined ? [] : [`status ${item.status}`]),
    ...(item.tags === undefined || item.tags.length === 0 ? [] : [`tags ${item.tags.join(', ')}`]),
    ...(item.supersedes === undefined ? [] : [`supersedes ${item.supersedes}`]),
    ...(item.supersededBy === undefined ? [] : [`superseded by ${item.supersededBy}`]),
    ...(item.isForgotten ? ['FORGOTTEN'] : []),
  ];
  const title = item.title === undefined ? '' : ` ${item.title} —`;
  return `${i + 1}. ${isoDate(item.at)} [${item.recordId}]${title} ${item.insight} (${marks.join('; ')})`;
}
