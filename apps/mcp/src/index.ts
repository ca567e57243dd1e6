export * from './memory/index.js';
export { createMcpServer, INSTRUCTIONS, SERVER_NAME, SERVER_VERSION } from './server.js';
export { DEFAULT_MAX_BODY_BYTES, MCP_PATH, startHttp, type HttpOptions, type RunningHttp } from './http.js';
export { serveStdio } from './stdio.js';
export { memoryContext, runHttp, runStdio, type McpHttpOptions, type McpRunOptions } from './run.js';
export { TOOLS } from './tools/all.js';
