import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { MemoryContext } from './memory/context.js';
import { createMcpServer } from './server.js';

/**
 * Serves one member over stdin/stdout until the host closes stdin (or a signal). stdout carries
 * JSON-RPC only: every diagnostic goes through ctx.log to stderr.
 */
export async function serveStdio(context: MemoryContext): Promise<void> {
  const server = createMcpServer(context);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.onclose = resolve;
    process.stdin.once('end', resolve);
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await server.connect(transport);
  context.log('serving on stdio');
  await closed;
  await server.close();
  context.session.close();
}
