export { DataDirLockedError, LOCK_FILE_NAME, acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
