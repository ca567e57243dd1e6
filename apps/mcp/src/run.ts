import { HistoryLog } from './memory/history-log.js';
import type { Log, MemoryContext } from './memory/context.js';
import { MemberSession } from './memory/session.js';
import { startHttp, type RunningHttp } from './http.js';
import { serveStdio } from './stdio.js';

export interface McpRunOptions {
  /** Member config path (resolved by the caller: --config, RUNE_CONFIG, the standard place). */
  readonly configPath: string;
  /** Local capture log (history). */
  readonly historyPath: string;
  /** Where the client caches the team's term counts between runs (the BM25 embedder's IDF). */
  readonly stateDir?: string;
  /** The team allows e-mail addresses in memories. */
  readonly allowEmails: boolean;
  readonly log: Log;
}

export interface McpHttpOptions {
  readonly host: string;
  readonly port: number;
  readonly allowedHosts?: readonly string[];
  readonly maxBodyBytes?: number;
}

/**
 * The context of one member: a session on the config, plus the shared log and settings. Exported so
 * the CLI's capture and recall run the same memory semantics as the MCP tools.
 */
export function memoryContext(options: McpRunOptions, token?: string): MemoryContext {
  return {
    session: new MemberSession({
      configPath: options.configPath,
      ...(token === undefined ? {} : { token }),
      connect: {
        termStats: {
          ...(options.stateDir === undefined ? {} : { stateDir: options.stateDir }),
          // Never process warnings: they would not carry the rune mcp prefix.
          logger: {
            warn: (fields, message) => {
              options.log(`${message} ${JSON.stringify(fields)}`);
            },
          },
        },
      },
    }),
    history: new HistoryLog(options.historyPath),
    allowEmails: options.allowEmails,
    clock: Date.now,
    log: options.log,
  };
}

/** stdio: the member of the config; nothing is read or connected before the first tool call. */
export function runStdio(options: McpRunOptions): Promise<void> {
  return serveStdio(memoryContext(options));
}

/** Streamable HTTP: each caller is the member whose token they present. */
export function runHttp(options: McpRunOptions, http: McpHttpOptions): Promise<RunningHttp> {
  return startHttp({
    host: http.host,
    port: http.port,
    ...(http.allowedHosts === undefined ? {} : { allowedHosts: http.allowedHosts }),
    ...(http.maxBodyBytes === undefined ? {} : { maxBodyBytes: http.maxBodyBytes }),
    contextFor: (token) => memoryContext(options, token),
    log: options.log,
  });
}
