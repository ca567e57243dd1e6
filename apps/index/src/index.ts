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
