// The low-level Server, not McpServer: McpServer turns invalid arguments into an isError text of
// its own, without the stable code and recovery hint every Rune tool failure carries, and derives
// schemas we need to keep portable. Server is the SDK's documented choice for such cases.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { MemoryContext } from './memory/context.js';
import { MemoryErrorCode } from './memory/errors.js';
import { TOOLS } from './tools/all.js';
import { failureResult } from './tools/tool.js';

export const SERVER_NAME = 'rune';
export const SERVER_VERSION = '0.1.0';

export const INSTRUCTIONS = `Rune is the team's encrypted long-term memory.
- recall before answering questions about design, past decisions, conventions or incidents, and before proposing a change that may have been settled already; cite record ids.
- capture (or batch_capture) when a decision with its reason, a rejected alternative, a root cause, a lesson or a policy is settled; write a self-contained insight. Not chit-chat, status updates, open questions or routine changes.
- history lists your own recent captures; forget deletes or supersedes a record; status diagnoses setup problems.`;

const BY_NAME = new Map(TOOLS.map((t) => [t.name, t]));

/** An MCP server exposing Rune's tools over whatever transport it is connected to. */
// eslint-disable-next-line @typescript-eslint/no-deprecated
export function createMcpServer(context: MemoryContext): Server {
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  const server = new Server(
    { name: SERVER_NAME, title: 'Rune team memory', version: SERVER_VERSION },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS.map((t) => t.listing) }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = BY_NAME.get(request.params.name);
    if (tool === undefined) {
      return failureResult({
        code: MemoryErrorCode.INVALID_INPUT,
        message: `there is no tool named "${request.params.name}"`,
        hint: `use one of: ${TOOLS.map((t) => t.name).join(', ')}`,
      });
    }
    return tool.call(request.params.arguments, context);
  });
  return server;
}
