export { DataDirLockedError, LOCK_FILE_NAME, acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
export { PRIVATE_FILE_MODE, fsyncDir, writeFileAtomic } from './atomic-write.js';
