import { z } from 'zod';
import { MemoryError, MemoryErrorCode } from '../memory/errors.js';
import { deleteMemory, supersedeMemory } from '../memory/forget.js';
import { captureItemSchema, recordIdField } from './fields.js';
import { captureStructured, describeCapture } from './format.js';
import { defineTool, okResult } from './tool.js';

const schema = z.strictObject({
  recordId: recordIdField.describe('The record to forget or supersede.'),
  mode: z
    .enum(['delete', 'supersede'])
    .default('delete')
    .describe(
      '"delete": gone for good (its key is destroyed). "supersede": kept but replaced by `successor`, which is captured now.',
    ),
  successor: captureItemSchema
    .omit({ supersedes: true })
    .exactOptional()
    .describe('With mode "supersede": the memory that replaces the record, as capture takes it.'),
});

export const forgetTool = defineTool({
  name: 'forget',
  title: 'Forget or supersede a memory',
  description:
    'Remove a memory that is wrong, leaked something, or must not be kept ("delete", permanent), ' +
    'or replace one that is outdated with a corrected memory ("supersede": the old record stays, ' +
    "ranks lower and points to the new one). Only the record's author or an admin may delete; the " +
    'Vault refuses anyone else. Ask the user before deleting.',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  inputSchema: schema,
  async run(input, ctx) {
    if (input.mode === 'delete') {
      if (input.successor !== undefined) throw badCombination('successor is only for mode "supersede"');
      const result = await deleteMemory(ctx, input.recordId);
      const text = result.wasLive
        ? `Deleted record ${input.recordId}: it will never be returned again and its key is destroyed.`
        : `Record ${input.recordId} was already forgotten; nothing more to do.`;
      return okResult(text, { mode: 'delete', recordId: input.recordId, wasLive: result.wasLive });
    }
    if (input.successor === undefined) throw badCombination('mode "supersede" needs a successor memory');
    const result = await supersedeMemory(ctx, input.recordId, input.successor);
    const successor = result.successor;
    const text =
      successor.outcome === 'captured'
        ? `Superseded record ${input.recordId} with new record ${successor.recordId ?? '?'}; the old one stays but ranks lower and points to it.\n${describeCapture(successor)}`
        : `Not superseded: the successor is a near-duplicate of record ${successor.duplicateOf ?? '?'}, so nothing was stored.\n${describeCapture(successor)}`;
    return okResult(text, {
      mode: 'supersede',
      recordId: input.recordId,
      successor: captureStructured(successor),
    });
  },
});

function badCombination(message: string): MemoryError {
  return new MemoryError(
    MemoryErrorCode.INVALID_INPUT,
    `invalid arguments for forget: ${message}`,
    'use mode "delete" with a recordId only, or mode "supersede" with a recordId and a successor',
  );
}
