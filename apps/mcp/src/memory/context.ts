import type { HistoryLog } from './history-log.js';
import type { MemberSession } from './session.js';

/** Diagnostics go to stderr only: stdout carries the MCP protocol. Never memory content. */
export type Log = (message: string) => void;

/** What every memory operation needs; built once per member (per bearer token over HTTP). */
export interface MemoryContext {
  readonly session: MemberSession;
  readonly history: HistoryLog;
  /** The team allows e-mail addresses in memories (`--allow-emails`, RUNE_ALLOW_EMAILS). */
  readonly allowEmails: boolean;
  /** Wall clock, ms since the Unix epoch. */
  readonly clock: () => number;
  readonly log: Log;
}
