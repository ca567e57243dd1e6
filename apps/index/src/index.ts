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
