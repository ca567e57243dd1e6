export {
  captureMemory,
  redactRequest,
  NOVELTY_NEIGHBOURS,
  type CaptureRequest,
  type CaptureResult,
  type Neighbour,
} from './capture.js';
export type { Log, MemoryContext } from './context.js';
export { MemoryError, MemoryErrorCode, describeFailure, type Failure } from './errors.js';
export { hasFilters, matchesFilters, type RecallFilters } from './filters.js';
export { deleteMemory, supersedeMemory, type DeleteResult, type SupersedeResult } from './forget.js';
export {
  HISTORY_FILE_MODE,
  HistoryLog,
  defaultHistoryPath,
  selectHistory,
  type HistoryEntry,
  type HistoryItem,
  type HistoryQuery,
} from './history-log.js';
export { recallMemories, type RecallRequest, type RecallResult } from './recall.js';
export {
  REDACTION_KINDS,
  describeCounts,
  redactText,
  type RedactionCounts,
  type RedactionKind,
} from './redact.js';
export { RANK_WEIGHTS, rerank, successorsOf, type RankedHit } from './rerank.js';
export { RoleCap } from './role-cap.js';
export { MemberSession, type SessionOptions } from './session.js';
export { diagnose, type ServiceCheck, type StatusReport } from './status.js';
