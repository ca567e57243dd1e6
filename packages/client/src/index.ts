export { RuneClient, type CaptureInput, type ConnectOptions } from './rune-client.js';
export type { CaptureOutcome, CaptureTimings } from './capture.js';
export {
  MAX_FETCH_DECOYS,
  RECORD_KEY_VERSION,
  type RecallHit,
  type RecallOptions,
  type RecallOutcome,
  type RecallTimings,
  type SkippedHit,
} from './recall.js';
export type { ForgetOutcome } from './forget.js';
export {
  RuneClientError,
  RuneClientErrorCode,
  isRuneClientError,
  type RuneClientErrorOptions,
  type ServiceName,
} from './errors.js';
export {
  MAX_CONFIG_BYTES,
  MEMBER_CONFIG_VERSION,
  EMBEDDER_KINDS,
  memberConfigSchema,
  type EmbedderKind,
  type EmbedderSettings,
  type MemberConfig,
} from './member-config.js';
export {
  CONFIG_FILE_NAME,
  defaultConfigPath,
  defaultStateDir,
  toJsonPath,
  type ConfigPathContext,
} from './config-path.js';
export {
  CONFIG_DIR_MODE,
  CONFIG_FILE_MODE,
  ownerOnlyIcaclsArgs,
  readMemberConfig,
  writeMemberConfig,
  type WriteConfigOptions,
} from './config-file.js';
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  JsonHttpClient,
  type JsonHttpClientOptions,
  type RequestOptions,
} from './http.js';
export { PUBLISHED_KEY_PATH, fetchPinnedKey } from './pinned-key.js';
export {
  checkIndexEmbedder,
  chooseEmbedder,
  prepareEmbedder,
  type EmbedderEnvironment,
} from './embedder-choice.js';
export {
  MAX_RECORD_JSON_BYTES,
  RECORD_PAD_BYTES,
  RECORD_PAYLOAD_VERSION,
  RECORD_STATUSES,
  recordPayloadSchema,
  type RecordPayload,
  type RecordStatus,
} from './record-payload.js';
export { float32ToLeBytes } from './vectors.js';
export type { RefreshOutcome, TermStatsLogger, TermStatsSyncOptions } from './term-stats-sync.js';
export type { Whoami } from './whoami.js';
