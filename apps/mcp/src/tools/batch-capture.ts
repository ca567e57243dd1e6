import { z } from 'zod';
import { captureMemory } from '../memory/capture.js';
import { describeFailure, type Failure } from '../memory/errors.js';
import { captureItemSchema } from './fields.js';
import { captureStructured, describeCapture } from './format.js';
import { defineTool, invalidInput, okResult } from './tool.js';

/** Items per call: each is a full capture (novelty recall, permit, insert). */
export const MAX_BATCH_ITEMS = 20;

const listed = z.strictObject({
  items: z
    .array(captureItemSchema)
    .min(1)
    .max(MAX_BATCH_ITEMS)
    .describe(`The memories to capture, each as capture takes it (1 to ${MAX_BATCH_ITEMS}).`),
});

/** Items are checked one by one in run(), so one malformed item is reported and the rest stored. */
const loose = z.strictObject({ items: z.array(z.unknown()).min(1).max(MAX_BATCH_ITEMS) });

export const batchCaptureTool = defineTool({
  name: 'batch_capture',
  title: 'Capture several team memories',
  description:
    'Store several independent insights in one call, e.g. at the end of a session that settled ' +
    'more than one thing. Each item is handled like capture and reported on its own: captured, ' +
    'near-duplicate (not stored, existing record named) or rejected (with the reason); the others ' +
    'still go through. Use capture for a single memory.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  inputSchema: loose,
  listedSchema: listed,
  async run(input, ctx) {
    // Unconfigured is the call's failure, not each item's.
    await ctx.session.config();
    const items: Record<string, unknown>[] = [];
    const lines: string[] = [];
    const rejected = (index: number, error: Failure) => {
      items.push({ index, outcome: 'rejected', error });
      lines.push(`Item ${index}: rejected, ${error.code}: ${error.message} (fix: ${error.hint})`);
    };
    for (const [index, raw] of input.items.entries()) {
      const parsed = captureItemSchema.safeParse(raw);
      if (!parsed.success) {
        rejected(index, invalidInput(`batch_capture item ${index}`, parsed.error));
        continue;
      }
      try {
        const result = await captureMemory(ctx, parsed.data);
        items.push({ index, ...captureStructured(result) });
        lines.push(`Item ${index}: ${describeCapture(result).replaceAll('\n', ' ')}`);
      } catch (err: unknown) {
        rejected(index, describeFailure(err));
      }
    }
    const count = (outcome: string) => items.filter((i) => i.outcome === outcome).length;
    const summary = `Batch of ${items.length}: ${count('captured')} captured, ${count('near-duplicate')} near-duplicate, ${count('rejected')} rejected.`;
    const result = okResult([summary, ...lines].join('\n'), {
      captured: count('captured'),
      nearDuplicates: count('near-duplicate'),
      rejected: count('rejected'),
      items,
    });
    // Partial success is success; a batch that stored and matched nothing is an error to notice.
    return count('rejected') === items.length ? { ...result, isError: true } : result;
  },
});
