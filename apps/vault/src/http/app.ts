import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeBase64url } from '@rune/protocol';
import { ANONYMOUS_ACTOR, type AuditLog, AuditOutcome } from '../audit-log.js';
import { AccessGate } from '../access-gate.js';
import { VaultError, VaultErrorCode, isVaultError, unauthenticated } from '../errors.js';
import type { PublishedKey } from '../keys/published-key.js';
import type { Member, MemberRegistry } from '../member-registry.js';
import { RateLimiter, type Clock } from '../rate-limiter.js';
import { Capability, type RateLimitPolicy } from '../roles.js';
import { bytesToFloat32, type SearchCore } from '../search/index.js';
import {
  DEFAULT_BODY_LIMIT_BYTES,
  RESULTS_BODY_LIMIT_BYTES,
  isFrameBody,
  readFrameBody,
  readJsonBody,
} from './body.js';
import { HttpError, HttpErrorCode, mapError, sendJson } from './errors.js';
import { checkHealth, createCpuSampler, diskPercent, memoryPercent } from './health.js';
import type { VaultMetrics } from './metrics.js';
import { bytes, int, objectWith, optInt, str } from './validate.js';

export interface VaultAppDeps {
  readonly registry: MemberRegistry;
  readonly audit: AuditLog;
  readonly search: SearchCore;
  readonly metrics: VaultMetrics;
  /** The signed EncKey members encrypt with and pin by hash. */
  readonly publishedKey: PublishedKey;
  /** Data directory: its filesystem is the disk the health check watches. */
  readonly dataDir: string;
  /** Whether the sealed key set is still readable (main.ts: access() on the key-set file). */
  readonly keysAccessible: () => Promise<boolean>;
  readonly version: string;
  /** Live record count across indexes, when the caller can provide it. */
  readonly recordCount?: () => number;
  readonly limiter?: RateLimiter;
  readonly clock?: Clock;
  readonly bodyLimitBytes?: number;
  /** Body limit of /v1/results, which carries every block's encrypted scores. */
  readonly resultsBodyLimitBytes?: number;
  readonly healthThresholdPercent?: number;
}

interface Ctx {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
}

type Handler = (ctx: Ctx) => Promise<void>;

interface Route {
  readonly method: string;
  readonly template: string;
  readonly segments: readonly string[];
  readonly handler: Handler;
}

/** Redemption carries no bearer; one shared bucket keeps code guessing slow. */
const REDEEM_POLICY: RateLimitPolicy = { requestsPerMinute: 30, burst: 10 };
const KNOWN_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const MAX_DIM = 4096;
const MAX_BLOCKS = 4096;
/** One block's serialised scores are ~27 KB at the largest parameter set; this bounds a blob. */
const MAX_BLOCK_SCORES_BYTES = 1024 * 1024;

/**
 * The Vault's HTTP adapter. Returns a node:http request handler and never binds a port (main.ts does).
 * Handlers only parse, call the cores and let mapError translate failures.
 */
export function createVaultApp(deps: VaultAppDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const clock = deps.clock ?? Date.now;
  const limiter = deps.limiter ?? new RateLimiter({ clock });
  const gate = new AccessGate({ registry: deps.registry, limiter, audit: deps.audit, clock });
  const bodyLimit = deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const cpuPercent = createCpuSampler();
  const startedMs = Date.now();
  const { metrics } = deps;
  const health = () =>
    checkHealth({
      keysAccessible: deps.keysAccessible,
      cpuPercent,
      dataDir: deps.dataDir,
      ...(deps.healthThresholdPercent === undefined ? {} : { thresholdPercent: deps.healthThresholdPercent }),
    });
  metrics.bindSources({
    healthStatus: async () => ((await health()).status === 'healthy' ? 1 : 0),
    cpuPercent,
    memoryPercent,
    diskPercent: () => diskPercent(deps.dataDir),
    auditSeq: () => deps.audit.head.seq,
  });

  const body = (ctx: Ctx) => readJsonBody(ctx.req, bodyLimit);

  /**
   * Authenticates the bearer and applies the role's rate limit for routes whose core authorises
   * and audits the operation itself. Denials are audited here with their reason.
   */
  async function admit(req: IncomingMessage, action: string, isCharged = true): Promise<Member> {
    try {
      const member = deps.registry.authenticate(bearerOf(req), clock());
      if (!isCharged) return member;
      const role = deps.registry.getRole(member.role);
      const decision = limiter.take(member.id, role.rateLimit, clock());
      if (!decision.isAllowed) {
        throw new VaultError(VaultErrorCode.RATE_LIMITED, 'rate limit exceeded', {
          reason: `rate limit ${role.rateLimit.requestsPerMinute}/min exceeded`,
          memberId: member.id,
          retryAfterMs: decision.retryAfterMs,
        });
      }
      return member;
    } catch (err: unknown) {
      await deps.audit.append({
        actor: isVaultError(err) ? (err.memberId ?? ANONYMOUS_ACTOR) : ANONYMOUS_ACTOR,
        action,
        outcome: AuditOutcome.DENIED,
        reason: isVaultError(err) ? (err.reason ?? err.code) : 'internal error',
      });
      throw err;
    }
  }

  /** Member management goes through the AccessGate: authenticate, authorise, rate limit, audit. */
  function managed<T>(req: IncomingMessage, action: string, run: () => T, target?: string): Promise<T> {
    return gate.run(
      // A missing or malformed header becomes an empty token so the gate audits the denial.
      {
        token: bearerOrEmpty(req),
        capability: Capability.MANAGE_MEMBERS,
        action,
        ...(target === undefined ? {} : { target }),
      },
      () => Promise.resolve({ result: run() }),
    );
  }

  const routes: Route[] = [];
  const add = (method: string, template: string, handler: Handler) => {
    routes.push({ method, template, segments: template.split('/').slice(1), handler });
  };

  add('GET', '/health', async ({ res }) => {
    const report = await health();
    sendJson(res, report.status === 'healthy' ? 200 : 503, report);
  });
  add('GET', '/health/live', ({ res }) => {
    sendJson(res, 200, { status: 'alive' });
    return Promise.resolve();
  });
  add('GET', '/health/ready', async ({ res }) => {
    const isReady = await deps.keysAccessible().catch(() => false);
    sendJson(res, isReady ? 200 : 503, { status: isReady ? 'ready' : 'not ready' });
  });
  add('GET', '/metrics', async ({ res }) => {
    const text = await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
    res.end(text);
  });
  add('GET', '/status', async ({ res }) => {
    const members = deps.registry.listMembers();
    const mem = process.memoryUsage();
    sendJson(res, 200, {
      version: deps.version,
      uptimeSeconds: Math.round((Date.now() - startedMs) / 1000),
      resources: {
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        memoryPercent: memoryPercent(),
        cpuPercent: cpuPercent(),
        diskPercent: await diskPercent(deps.dataDir).catch(() => -1),
      },
      counts: {
        members: members.length,
        activeMembers: members.filter((m) => m.status === 'active').length,
        ...(deps.recordCount === undefined ? {} : { records: deps.recordCount() }),
        auditEntries: deps.audit.head.seq,
      },
    });
  });

  // Any member may read the public key; its pinned hash, not this channel, is what makes it trusted.
  add('GET', '/v1/keys/public', async ({ req, res }) => {
    // Not charged to the rate limit: every client fetches it once before its real work.
    await admit(req, 'keys.public', false);
    sendJson(res, 200, deps.publishedKey);
  });
  add('POST', '/v1/indexes', async (ctx) => {
    const member = await admit(ctx.req, 'index.register');
    const b = objectWith(await body(ctx), ['indexId', 'dim']);
    const out = await deps.search.registerIndex({
      member,
      indexId: str(b, 'indexId', 64),
      dim: int(b, 'dim', 1, MAX_DIM),
    });
    sendJson(ctx.res, 201, out);
  });
  add('POST', '/v1/permits', async (ctx) => {
    const member = await admit(ctx.req, 'capture.permit');
    const b = objectWith(await body(ctx), ['indexId']);
    const grant = await deps.search.issueCapturePermit({ member, indexId: str(b, 'indexId', 64) });
    sendJson(ctx.res, 200, {
      permit: grant.permit,
      recordId: grant.recordId,
      recordKey: encodeBase64url(grant.recordKey),
    });
  });
  add('POST', '/v1/tickets', async (ctx) => {
    const member = await admit(ctx.req, 'recall.ticket');
    const b = objectWith(await body(ctx), ['indexId', 'query', 'k']);
    const raw = bytes(b.query, 'query');
    if (raw.byteLength === 0 || raw.byteLength % 4 !== 0 || raw.byteLength > MAX_DIM * 4) {
      throw new VaultError(VaultErrorCode.INVALID_REQUEST, '"query" must be little-endian float32 values');
    }
    const ticket = await deps.search.issueTicket({
      member,
      indexId: str(b, 'indexId', 64),
      query: bytesToFloat32(raw),
      k: int(b, 'k', 1, 1000),
    });
    sendJson(ctx.res, 200, { ticket });
  });
  add('POST', '/v1/results', async (ctx) => {
    const member = await admit(ctx.req, 'recall.open');
    const limit = Math.max(bodyLimit, deps.resultsBodyLimitBytes ?? RESULTS_BODY_LIMIT_BYTES);
    let b: Record<string, unknown>;
    let blocks: Uint8Array[];
    if (isFrameBody(ctx.req)) {
      // The members' client sends the blocks as raw bytes beside a small JSON head.
      const frame = await readFrameBody(ctx.req, limit, {
        maxJsonBytes: bodyLimit,
        maxBlobs: MAX_BLOCKS,
        maxBlobBytes: MAX_BLOCK_SCORES_BYTES,
      });
      b = objectWith(frame.json, ['ticket', 'result']);
      blocks = frame.blobs;
    } else {
      b = objectWith(await readJsonBody(ctx.req, limit), ['ticket', 'result', 'blocks']);
      if (!Array.isArray(b.blocks) || b.blocks.length > MAX_BLOCKS) {
        throw new VaultError(
          VaultErrorCode.INVALID_REQUEST,
          `"blocks" must be an array of at most ${MAX_BLOCKS}`,
        );
      }
      blocks = b.blocks.map((v: unknown, i) => bytes(v, `blocks[${i}]`));
    }
    const hits = await deps.search.openResult({ member, ticket: b.ticket, result: b.result, blocks });
    sendJson(ctx.res, 200, {
      hits: hits.map((h) => ({
        recordId: h.recordId,
        score: h.score,
        recordKey: encodeBase64url(h.recordKey),
      })),
    });
  });
  add('POST', '/v1/records/forget', async (ctx) => {
    const member = await admit(ctx.req, 'forget');
    const b = objectWith(await body(ctx), ['indexId', 'recordId']);
    const out = await deps.search.forgetRecord({
      member,
      indexId: str(b, 'indexId', 64),
      recordId: str(b, 'recordId', 64),
    });
    sendJson(ctx.res, 200, out);
  });
  add('POST', '/v1/term-stats/grant', async (ctx) => {
    const member = await admit(ctx.req, 'term-stats.grant');
    const b = objectWith(await body(ctx), ['indexId']);
    const out = await deps.search.issueTermStatsGrant({ member, indexId: str(b, 'indexId', 64) });
    sendJson(ctx.res, 200, { grant: out.grant, statsKey: encodeBase64url(out.statsKey) });
  });

  add('GET', '/v1/roles', async ({ req, res }) => {
    const roles = await managed(req, 'role.list', () => deps.registry.listRoles());
    sendJson(res, 200, { roles });
  });
  add('POST', '/v1/roles', async (ctx) => {
    // The registry validates the whole definition (name, capabilities, cap, rate limit).
    const definition = objectWith(await body(ctx), ['name', 'capabilities', 'topKCap', 'rateLimit']);
    const role = await managed(ctx.req, 'role.define', () => deps.registry.defineRole(definition));
    sendJson(ctx.res, 201, { role });
  });
  // A member's own identity and role (cap, rate limit), so clients size recalls without a refusal.
  add('GET', '/v1/members/me', async ({ req, res }) => {
    const member = await admit(req, 'member.self', false);
    const role = deps.registry.getRole(member.role);
    sendJson(res, 200, {
      member: { id: member.id, name: member.name, role: member.role },
      role: {
        name: role.name,
        capabilities: role.capabilities,
        topKCap: role.topKCap,
        rateLimit: role.rateLimit,
      },
    });
  });
  add('GET', '/v1/members', async ({ req, res }) => {
    const members = await managed(req, 'member.list', () => deps.registry.listMembers());
    sendJson(res, 200, { members });
  });
  add('POST', '/v1/members', async (ctx) => {
    const b = objectWith(await body(ctx), ['name', 'email', 'role'], ['expiresAt']);
    const expiresAt = optInt(b, 'expiresAt', 0, Number.MAX_SAFE_INTEGER);
    const issued = await managed(ctx.req, 'member.add', () =>
      deps.registry.addMember({
        name: str(b, 'name'),
        email: str(b, 'email'),
        role: str(b, 'role', 32),
        ...(expiresAt === undefined ? {} : { expiresAt }),
      }),
    );
    // SECURITY: the only time this token is ever sent; it is not stored or logged.
    sendJson(ctx.res, 201, { member: issued.member, token: issued.token });
  });
  add('POST', '/v1/members/:id/rotate', async ({ req, res, params }) => {
    const id = params.id ?? '';
    const issued = await managed(req, 'member.rotate', () => deps.registry.rotateToken(id), id);
    sendJson(res, 200, { member: issued.member, token: issued.token });
  });
  add('DELETE', '/v1/members/:id', async ({ req, res, params }) => {
    const id = params.id ?? '';
    // Revoke rather than erase, so the audit trail keeps naming the member.
    const member = await managed(req, 'member.revoke', () => deps.registry.revokeMember(id), id);
    sendJson(res, 200, { member });
  });
  add('POST', '/v1/invitations', async (ctx) => {
    const b = objectWith(await body(ctx), ['role'], ['ttlMs', 'memberExpiresAt']);
    const ttlMs = optInt(b, 'ttlMs', 1, Number.MAX_SAFE_INTEGER);
    const memberExpiresAt = optInt(b, 'memberExpiresAt', 0, Number.MAX_SAFE_INTEGER);
    const out = await managed(ctx.req, 'invitation.create', () =>
      deps.registry.createInvitation({
        role: str(b, 'role', 32),
        ...(ttlMs === undefined ? {} : { ttlMs }),
        ...(memberExpiresAt === undefined ? {} : { memberExpiresAt }),
      }),
    );
    sendJson(ctx.res, 201, { invitation: out.invitation, code: out.code });
  });
  add('POST', '/v1/invitations/redeem', async (ctx) => {
    const b = objectWith(await body(ctx), ['code', 'name', 'email']);
    const decision = limiter.take('invitation.redeem', REDEEM_POLICY, clock());
    try {
      if (!decision.isAllowed) {
        throw new VaultError(VaultErrorCode.RATE_LIMITED, 'rate limit exceeded', {
          reason: 'invitation redemption rate limit exceeded',
          retryAfterMs: decision.retryAfterMs,
        });
      }
      const issued = deps.registry.redeemInvitation(str(b, 'code', 128), {
        name: str(b, 'name'),
        email: str(b, 'email'),
      });
      await deps.audit.append({
        actor: issued.member.id,
        action: 'invitation.redeem',
        outcome: AuditOutcome.ALLOWED,
      });
      sendJson(ctx.res, 201, { member: issued.member, token: issued.token });
    } catch (err: unknown) {
      await deps.audit.append({
        actor: ANONYMOUS_ACTOR,
        action: 'invitation.redeem',
        outcome: AuditOutcome.DENIED,
        reason: isVaultError(err) ? (err.reason ?? err.code) : 'internal error',
      });
      throw err;
    }
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startNs = process.hrtime.bigint();
    const method = KNOWN_METHODS.has(req.method ?? '') ? (req.method ?? 'OTHER') : 'OTHER';
    let endpoint = 'unmatched';
    try {
      const path = new URL(req.url ?? '/', 'http://vault.invalid').pathname;
      const segments = path.split('/').slice(1);
      const matching = routes.filter((r) => matchSegments(r.segments, segments) !== undefined);
      if (matching.length === 0) throw new HttpError(404, HttpErrorCode.NOT_FOUND, 'no such route');
      endpoint = matching[0]?.template ?? endpoint;
      const route = matching.find((r) => r.method === req.method);
      if (route === undefined) {
        throw new HttpError(405, HttpErrorCode.METHOD_NOT_ALLOWED, 'method not allowed', {
          allow: matching.map((r) => r.method).join(', '),
        });
      }
      endpoint = route.template;
      await route.handler({ req, res, params: matchSegments(route.segments, segments) ?? {} });
    } catch (err: unknown) {
      const mapped = mapError(err);
      if (mapped.status === 429) metrics.rateLimited.inc();
      if (!res.headersSent) sendJson(res, mapped.status, mapped.body, mapped.headers);
      else res.destroy();
      // Unread request bytes would otherwise stall the socket; drain them.
      if (!req.readableEnded) req.resume();
    } finally {
      const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
      metrics.requests.inc({ method, endpoint, status: String(res.statusCode) });
      metrics.requestDuration.observe({ method, endpoint }, seconds);
    }
  }

  return (req, res) => {
    handle(req, res).catch(() => {
      // handle() maps every error itself; this only guards a failing socket write.
      res.destroy();
    });
  };
}

/** `Authorization: Bearer rune_…`; anything else is an unauthenticated request (reason audited only). */
function bearerOf(req: IncomingMessage): string {
  const header = req.headers.authorization;
  if (header === undefined) throw unauthenticated('no bearer token');
  const match = /^Bearer (\S+)$/.exec(header);
  if (match?.[1] === undefined) throw unauthenticated('malformed authorization header');
  return match[1];
}

function bearerOrEmpty(req: IncomingMessage): string {
  try {
    return bearerOf(req);
  } catch {
    return '';
  }
}

function matchSegments(
  template: readonly string[],
  path: readonly string[],
): Record<string, string> | undefined {
  if (template.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i] ?? '';
    const p = path[i] ?? '';
    if (t.startsWith(':')) {
      if (p.length === 0) return undefined;
      try {
        params[t.slice(1)] = decodeURIComponent(p);
      } catch {
        return undefined;
      }
    } else if (t !== p) return undefined;
  }
  return params;
}
