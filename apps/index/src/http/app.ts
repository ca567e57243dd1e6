import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { QueryMode } from '@rune/crypto';
import { FRAME_CONTENT_TYPE, encodeBase64url, encodeFrame } from '@rune/protocol';
import { Registry } from 'prom-client';
import type { IndexService } from '../core/index-service.js';
import type { TermStatsService } from '../core/term-stats-service.js';
import { IndexError } from '../errors.js';
import type { IndexStore } from '../storage/index-store.js';
import {
  bytesField,
  intField,
  objectField,
  readJsonBody,
  requireKeys,
  stringField,
  stringListField,
} from './body.js';
import { HttpError, INTERNAL_ERROR_BODY, mapError } from './errors.js';
import { DEFAULT_HEALTH_LIMITS, checkHealth, type HealthLimits } from './health.js';
import { createCpuSampler, createIndexMetrics, type IndexMetrics } from './metrics.js';

/** Per-route body limits in bytes, checked before anything is parsed. */
export interface BodyLimits {
  readonly createIndex: number;
  /**
   * base64url of a packed encrypted vector up to the engine's D = 2048 (3,408,000 bytes at set 1,
   * 4,544,000 characters) plus a sealed record (≤256 KiB) and the permit.
   */
  readonly insert: number;
  /** An encrypted query and its ticket. */
  readonly search: number;
  readonly fetch: number;
  readonly delete: number;
  /** A sealed term-stats delta (≤ 128 KiB + 64) as base64url, and its permit. */
  readonly termStatsAppend: number;
  readonly termStatsFetch: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = Object.freeze({
  createIndex: 4 * 1024,
  insert: 5 * 1024 * 1024,
  search: 512 * 1024,
  fetch: 64 * 1024,
  delete: 16 * 1024,
  termStatsAppend: 192 * 1024,
  termStatsFetch: 16 * 1024,
});

/** Fetch id lists beyond this are refused at the edge; the core applies the ticket's own cap. */
const MAX_FETCH_IDS = 1024;

/** pino-compatible subset. */
export interface HttpLogger {
  error(fields: Record<string, unknown>, message: string): void;
}

export interface IndexAppDeps {
  readonly service: IndexService;
  /** Sealed term-statistics deltas; without it those routes answer 404. */
  readonly termStats?: TermStatsService;
  /** Read-only use: record counts for metrics and status, without loading blocks. */
  readonly store: IndexStore;
  readonly dataDir: string;
  /** SECURITY: the operator's bearer token for index creation; compared in constant time. */
  readonly operatorToken: string;
  readonly registry?: Registry;
  readonly version?: string;
  readonly limits?: Partial<BodyLimits>;
  readonly healthLimits?: Partial<HealthLimits>;
  readonly logger?: HttpLogger;
  /** Monotonic milliseconds; for durations and uptime. */
  readonly monotonicMs?: () => number;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly contentType?: string;
}

interface Context {
  readonly req: IncomingMessage;
  readonly params: readonly string[];
  readonly limitBytes: number;
}

interface Route {
  readonly method: 'GET' | 'POST';
  /** The bounded `endpoint` label. */
  readonly template: string;
  readonly pattern: RegExp;
  readonly limitBytes: number;
  readonly handle: (ctx: Context) => Promise<Reply>;
}

const ID = '([^/]+)';

/** The HTTP adapter: parses, calls the core, maps errors in one place. Never binds a port. */
export function createIndexApp(deps: IndexAppDeps): RequestHandler {
  const limits: BodyLimits = Object.freeze({ ...DEFAULT_BODY_LIMITS, ...deps.limits });
  const healthLimits: HealthLimits = Object.freeze({ ...DEFAULT_HEALTH_LIMITS, ...deps.healthLimits });
  const registry = deps.registry ?? new Registry();
  const now = deps.monotonicMs ?? (() => performance.now());
  const startedMs = now();
  const cpuPercent = createCpuSampler();
  const uptimeSeconds = (): number => (now() - startedMs) / 1000;
  const recordCount = async (): Promise<number> => {
    let total = 0;
    for (const index of await deps.store.listIndexes())
      total += (await deps.store.stats(index.id)).recordCount;
    return total;
  };
  const metrics: IndexMetrics = createIndexMetrics(registry, { recordCount, cpuPercent, uptimeSeconds });
  const operatorDigest = sha256(deps.operatorToken);
  const { service } = deps;

  const health = async (): Promise<Reply> => {
    const report = await checkHealth(deps.dataDir, healthLimits, cpuPercent());
    const healthy = report.status === 'healthy';
    metrics.healthStatus.set(healthy ? 1 : 0);
    return { status: healthy ? 200 : 503, body: report };
  };

  const routes: readonly Route[] = [
    { method: 'GET', template: '/health', pattern: /^\/health$/, limitBytes: 0, handle: health },
    {
      method: 'GET',
      template: '/health/live',
      pattern: /^\/health\/live$/,
      limitBytes: 0,
      handle: () => Promise.resolve({ status: 200, body: { status: 'live' } }),
    },
    {
      method: 'GET',
      template: '/health/ready',
      pattern: /^\/health\/ready$/,
      limitBytes: 0,
      // Ready means writes can land: the data directory takes a write and has room.
      handle: async () => {
        const report = await checkHealth(deps.dataDir, healthLimits, 0);
        const ready = report.checks.storage.status === 'pass' && report.checks.disk.status === 'pass';
        return {
          status: ready ? 200 : 503,
          body: { status: ready ? 'ready' : 'not ready', checks: report.checks },
        };
      },
    },
    {
      method: 'GET',
      template: '/metrics',
      pattern: /^\/metrics$/,
      limitBytes: 0,
      handle: async () => {
        await health();
        return { status: 200, body: await registry.metrics(), contentType: registry.contentType };
      },
    },
    {
      method: 'GET',
      template: '/status',
      pattern: /^\/status$/,
      limitBytes: 0,
      handle: async () => {
        const memory = process.memoryUsage();
        const indexes = await deps.store.listIndexes();
        return {
          status: 200,
          body: {
            service: 'rune-index',
            version: deps.version ?? '0.0.0',
            uptimeSeconds: Math.floor(uptimeSeconds()),
            resources: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, cpuPercent: cpuPercent() },
            counts: { indexes: indexes.length, records: await recordCount() },
          },
        };
      },
    },
    {
      method: 'POST',
      template: '/v1/indexes',
      pattern: /^\/v1\/indexes$/,
      limitBytes: limits.createIndex,
      handle: async (ctx) => {
        requireOperator(ctx.req, operatorDigest);
        const body = await readJsonBody(ctx.req, ctx.limitBytes);
        const hasMode = 'queryMode' in body;
        requireKeys(body, ['indexId', 'paramSetId', 'dim', 'embedderId', ...(hasMode ? ['queryMode'] : [])]);
        const description = await service.createIndex({
          indexId: stringField(body, 'indexId', 64),
          paramSetId: intField(body, 'paramSetId'),
          dim: intField(body, 'dim'),
          embedderId: stringField(body, 'embedderId', 128),
          // The core validates the mode against the parameter set.
          ...(hasMode ? { queryMode: stringField(body, 'queryMode', 32) as QueryMode } : {}),
        });
        return { status: 201, body: description };
      },
    },
    {
      method: 'GET',
      template: '/v1/indexes/:id',
      pattern: new RegExp(`^/v1/indexes/${ID}$`),
      limitBytes: 0,
      handle: async (ctx) => ({ status: 200, body: await service.describe(param(ctx, 0)) }),
    },
    {
      method: 'GET',
      template: '/v1/indexes/:id/stats',
      pattern: new RegExp(`^/v1/indexes/${ID}/stats$`),
      limitBytes: 0,
      handle: async (ctx) => ({ status: 200, body: await service.stats(param(ctx, 0)) }),
    },
    {
      method: 'POST',
      template: '/v1/indexes/:id/records',
      pattern: new RegExp(`^/v1/indexes/${ID}/records$`),
      limitBytes: limits.insert,
      handle: async (ctx) => {
        try {
          const body = await readJsonBody(ctx.req, ctx.limitBytes);
          requireKeys(body, ['permit', 'vector', 'sealed']);
          const receipt = await service.insert({
            indexId: param(ctx, 0),
            permit: objectField(body, 'permit'),
            vector: bytesField(body, 'vector'),
            sealed: bytesField(body, 'sealed'),
          });
          metrics.inserts.inc({ status: 'ok' });
          return { status: 201, body: { receipt } };
        } catch (err: unknown) {
          metrics.inserts.inc({ status: mapError(err).status < 500 ? 'refused' : 'error' });
          throw err;
        }
      },
    },
    {
      method: 'POST',
      template: '/v1/indexes/:id/search',
      pattern: new RegExp(`^/v1/indexes/${ID}/search$`),
      limitBytes: limits.search,
      handle: async (ctx) => {
        const body = await readJsonBody(ctx.req, ctx.limitBytes);
        requireKeys(body, ['ticket', 'query']);
        const request = {
          indexId: param(ctx, 0),
          ticket: objectField(body, 'ticket'),
          query: bytesField(body, 'query'),
        };
        const started = now();
        const { result, blocks } = await service.search(request);
        metrics.searchDuration.observe((now() - started) / 1000);
        // Members ask for a frame: the blocks travel as raw bytes, not base64 inside JSON.
        if (acceptsFrame(ctx.req)) {
          return { status: 200, body: encodeFrame({ result }, blocks), contentType: FRAME_CONTENT_TYPE };
        }
        return { status: 200, body: { result, blocks: blocks.map((b) => encodeBase64url(b)) } };
      },
    },
    {
      method: 'POST',
      template: '/v1/indexes/:id/records/fetch',
      pattern: new RegExp(`^/v1/indexes/${ID}/records/fetch$`),
      limitBytes: limits.fetch,
      handle: async (ctx) => {
        const body = await readJsonBody(ctx.req, ctx.limitBytes);
        requireKeys(body, ['ticket', 'recordIds']);
        const { records } = await service.fetch({
          indexId: param(ctx, 0),
          ticket: objectField(body, 'ticket'),
          recordIds: stringListField(body, 'recordIds', MAX_FETCH_IDS),
        });
        const out = [...records].map(([recordId, sealed]) => ({ recordId, sealed: encodeBase64url(sealed) }));
        return { status: 200, body: { records: out } };
      },
    },
    {
      method: 'POST',
      template: '/v1/indexes/:id/records/delete',
      pattern: new RegExp(`^/v1/indexes/${ID}/records/delete$`),
      limitBytes: limits.delete,
      handle: async (ctx) => {
        const body = await readJsonBody(ctx.req, ctx.limitBytes);
        requireKeys(body, ['permit']);
        await service.delete({ indexId: param(ctx, 0), permit: objectField(body, 'permit') });
        return { status: 200, body: { deleted: true } };
      },
    },
    {
      method: 'POST',
      template: '/v1/indexes/:id/term-stats',
      pattern: new RegExp(`^/v1/indexes/${ID}/term-stats$`),
      limitBytes: limits.termStatsAppend,
      handle: async (ctx) => {
        const termStats = requireTermStats(deps.termStats);
        const body = await readJsonBody(ctx.req, ctx.limitBytes);
        requireKeys(body, ['permit', 'sealed']);
        const appended = await termStats.append({
          indexId: param(ctx, 0),
          permit: objectField(body, 'permit'),
          sealed: bytesField(body, 'sealed'),
        });
        return { status: 201, body: appended };
      },
    },
    {
      method: 'POST',
      template: '/v1/indexes/:id/term-stats/fetch',
      pattern: new RegExp(`^/v1/indexes/${ID}/term-stats/fetch$`),
      limitBytes: limits.termStatsFetch,
      handle: async (ctx) => {
        const termStats = requireTermStats(deps.termStats);
        const body = await readJsonBody(ctx.req, ctx.limitBytes);
        const hasLimit = 'limit' in body;
        requireKeys(body, ['grant', 'after', ...(hasLimit ? ['limit'] : [])]);
        const page = await termStats.fetch({
          indexId: param(ctx, 0),
          grant: objectField(body, 'grant'),
          after: intField(body, 'after'),
          ...(hasLimit ? { limit: intField(body, 'limit') } : {}),
        });
        const deltas = page.deltas.map((d) => ({
          seq: d.seq,
          kind: d.kind,
          recordId: d.recordId,
          sealed: encodeBase64url(d.sealed),
        }));
        return { status: 200, body: { deltas, lastSeq: page.lastSeq, hasMore: page.hasMore } };
      },
    },
  ];

  const dispatch = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = now();
    const method = req.method ?? 'GET';
    let endpoint = 'unmatched';
    let reply: Reply;
    try {
      const path = pathOf(req.url);
      const candidates = routes.filter((r) => r.pattern.test(path));
      const route = candidates.find((r) => r.method === method);
      if (candidates.length === 0) throw new HttpError(404, 'NOT_FOUND', 'no such route');
      if (route === undefined) {
        endpoint = candidates[0]?.template ?? endpoint;
        res.setHeader('Allow', candidates.map((r) => r.method).join(', '));
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `use ${candidates.map((r) => r.method).join(' or ')}`);
      }
      endpoint = route.template;
      const params = route.pattern.exec(path)?.slice(1) ?? [];
      reply = await route.handle({ req, params, limitBytes: route.limitBytes });
    } catch (err: unknown) {
      const mapped = mapError(err);
      if (mapped.refusal !== undefined) metrics.refusals.inc({ reason: mapped.refusal });
      if (mapped.isStorageError) metrics.storageErrors.inc();
      if (mapped.status >= 500) deps.logger?.error({ err, endpoint }, 'request failed');
      reply = { status: mapped.status, body: mapped.body };
    }
    send(res, reply);
    // A label per known method only: arbitrary method strings would make the label set unbounded.
    const methodLabel = KNOWN_METHODS.has(method) ? method : 'OTHER';
    metrics.requests.inc({ method: methodLabel, endpoint, status: String(reply.status) });
    metrics.requestDuration.observe({ method: methodLabel, endpoint }, (now() - started) / 1000);
  };

  return (req, res) => {
    dispatch(req, res).catch((err: unknown) => {
      deps.logger?.error({ err }, 'response failed');
      if (!res.headersSent) send(res, { status: 500, body: INTERNAL_ERROR_BODY });
      else res.destroy();
    });
  };
}

const KNOWN_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

function param(ctx: Context, i: number): string {
  const raw = ctx.params[i] ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new IndexError('INVALID_INPUT', 'malformed index id in the path');
  }
}

function requireTermStats(termStats: TermStatsService | undefined): TermStatsService {
  if (termStats === undefined) throw new HttpError(404, 'NOT_FOUND', 'this index serves no term statistics');
  return termStats;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** SECURITY: digests of equal length are compared, so neither content nor length leaks through timing. */
function requireOperator(req: IncomingMessage, expected: Buffer): void {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer (\S+)$/.exec(header);
  const presented = sha256(match?.[1] ?? '');
  if (match === null || !timingSafeEqual(presented, expected)) {
    throw new HttpError(401, 'UNAUTHENTICATED', 'unauthenticated');
  }
}

function send(res: ServerResponse, reply: Reply): void {
  const payload =
    reply.body instanceof Uint8Array
      ? reply.body
      : Buffer.from(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body), 'utf8');
  res.statusCode = reply.status;
  res.setHeader('Content-Type', reply.contentType ?? 'application/json; charset=utf-8');
  res.setHeader('Content-Length', payload.byteLength);
  res.setHeader('Cache-Control', 'no-store');
  res.end(payload);
}

function acceptsFrame(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').toLowerCase().includes(FRAME_CONTENT_TYPE);
}
