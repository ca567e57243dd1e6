export { createVaultApp, type VaultAppDeps } from './app.js';
export { DEFAULT_BODY_LIMIT_BYTES } from './body.js';
export { HttpError, HttpErrorCode, INTERNAL_ERROR_BODY, mapError, type MappedError } from './errors.js';
export { HEALTH_THRESHOLD_PERCENT, checkHealth, type HealthReport } from './health.js';
export { REFUSAL_REASONS, createVaultMetrics, type RefusalReason, type VaultMetrics } from './metrics.js';
