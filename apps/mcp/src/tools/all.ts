import { batchCaptureTool } from './batch-capture.js';
import { captureTool } from './capture.js';
import { forgetTool } from './forget.js';
import { historyTool } from './history.js';
import { recallTool } from './recall.js';
import { statusTool } from './status.js';
import type { RegisteredTool } from './tool.js';

/** Every tool the server lists, in the order hosts show them. */
export const TOOLS: readonly RegisteredTool[] = [
  captureTool,
  batchCaptureTool,
  recallTool,
  historyTool,
  forgetTool,
  statusTool,
];
