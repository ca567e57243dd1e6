import { captureMemory } from '../memory/capture.js';
import { captureItemSchema } from './fields.js';
import { captureStructured, describeCapture } from './format.js';
import { defineTool, okResult } from './tool.js';

export const captureTool = defineTool({
  name: 'capture',
  title: 'Capture a team memory',
  description:
    "Store one insight in the team's encrypted long-term memory. Use it when something worth " +
    'knowing later was settled: a decision and its reason, a rejected alternative and why, a root ' +
    'cause, a lesson, a convention or policy. Do not capture chit-chat, status updates, unanswered ' +
    'questions or routine changes. Write the insight so it stands alone. Secrets (API keys, tokens, ' +
    'passwords, private keys, e-mail addresses) are redacted before encryption; a near-duplicate of ' +
    'an existing memory is not stored and the existing record is named instead.',
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  inputSchema: captureItemSchema,
  async run(input, ctx) {
    const result = await captureMemory(ctx, input);
    return okResult(describeCapture(result), captureStructured(result));
  },
});
