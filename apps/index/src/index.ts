export { IndexError, IndexErrorCode, isIndexError } from './errors.js';
export type {
  AppendRecordInput,
  CreateIndexInput,
  IndexDescriptor,
  IndexStats,
  IndexStore,
  LiveRecord,
  RecordPlacement,
} from './storage/index-store.js';
export {
  EmbeddedStore,
  openEmbeddedStore,
  type EmbeddedStoreOptions,
  type RecoveryEvent,
  type StorageLogger,
} from './storage/embedded-store.js';
export { rebuildBlocks, type IndexBlocks } from './storage/block-builder.js';
export {
  DEFAULT_EPOCH,
  DEFAULT_MAX_FETCH_DECOYS,
  DEFAULT_REPLAY_CAPACITY,
  IndexService,
  createIndexService,
  openIndexService,
  type BlockScoringPool,
  type CreateIndexRequest,
  type DeleteRequest,
  type FetchRequest,
  type FetchResponse,
  type IndexDescription,
  type IndexServiceDeps,
  type IndexServiceStats,
  type InsertRequest,
  type SearchRequest,
  type SearchResponse,
  type ServiceLogger,
} from './core/index-service.js';
export { parsePlainQuery, plainQueryBytes } from './core/query-bytes.js';
export {
  DEFAULT_BODY_LIMITS,
  createIndexApp,
  type BodyLimits,
  type HttpLogger,
  type IndexAppDeps,
  type RequestHandler,
} from './http/app.js';
export { HttpError, HttpErrorCode, INTERNAL_ERROR_BODY, RefusalReason, mapError } from './http/errors.js';
export { DEFAULT_HEALTH_LIMITS, checkHealth, type HealthLimits, type HealthReport } from './http/health.js';
export { createIndexMetrics, type IndexMetrics } from './http/metrics.js';
export {
  OPERATOR_TOKEN_FILE,
  SIGNING_PUBLIC_FILE,
  ensureIndexIdentity,
  type IndexIdentity,
} from './server/identity.js';
export { startIndex, type IndexServerOptions, type RunningIndex } from './server/start-index.js';
