import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isRuneClientError } from '@rune/client';
import type { Log, MemoryContext } from './memory/context.js';
import { createMcpServer } from './server.js';

export const MCP_PATH = '/mcp';
/** A batch of 20 full-size memories fits; anything larger is refused before it is parsed. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Hostnames a loopback server answers to (DNS-rebinding protection). */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
/** How long a token the Vault accepted is trusted before it is checked again (revocation lag). */
const TOKEN_RECHECK_MS = 60_000;
const MAX_CACHED_MEMBERS = 256;
const TOKEN = /^Bearer (rune_[A-Za-z0-9_-]{43})$/;

export interface HttpOptions {
  readonly host: string;
  readonly port: number;
  /** Extra Host/Origin hostnames accepted besides loopback ones (a reverse proxy's public name). */
  readonly allowedHosts?: readonly string[];
  readonly maxBodyBytes?: number;
  /** The memory context of one member, by their bearer token. */
  readonly contextFor: (token: string) => MemoryContext;
  readonly log: Log;
}

export interface RunningHttp {
  readonly url: string;
  close(): Promise<void>;
}

interface Member {
  readonly context: MemoryContext;
  checkedAt: number;
}

/**
 * Streamable HTTP, stateless: every POST gets a fresh server and transport, so replicas can run
 * side by side. SECURITY: Host and Origin are checked before anything else (a web page must not
 * reach a loopback server through DNS rebinding), then the member's token, which the Vault
 * verifies; a rejected token never reaches a tool.
 */
export async function startHttp(options: HttpOptions): Promise<RunningHttp> {
  const allowed = new Set([...LOOPBACK_NAMES, ...(options.allowedHosts ?? [])].map((h) => h.toLowerCase()));
  if (options.host !== '0.0.0.0' && options.host !== '::')
    allowed.add(hostnameOf(options.host) ?? options.host);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const members = new Map<string, Member>();

  const memberFor = async (token: string): Promise<Member | 'refused'> => {
    const key = createHash('sha256').update(token).digest('hex');
    let member = members.get(key);
    if (member === undefined) {
      if (members.size >= MAX_CACHED_MEMBERS) {
        const oldest = members.keys().next().value;
        if (oldest !== undefined) {
          members.get(oldest)?.context.session.close();
          members.delete(oldest);
        }
      }
      member = { context: options.contextFor(token), checkedAt: 0 };
      members.set(key, member);
    }
    if (Date.now() - member.checkedAt < TOKEN_RECHECK_MS) return member;
    try {
      // GET /v1/members/me with the token on every recheck (the client itself is cached), so a
      // rotated or revoked token stops working within TOKEN_RECHECK_MS.
      await (await member.context.session.client()).whoami();
      member.checkedAt = Date.now();
    } catch (err: unknown) {
      if (isRuneClientError(err, 'UNAUTHENTICATED')) {
        member.context.session.close();
        members.delete(key);
        return 'refused';
      }
      // Vault down or not configured: the tools (status first) say so with the fix.
    }
    return member;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    if (url.pathname !== MCP_PATH) {
      reject(res, 404, -32601, `not found: the MCP endpoint is ${MCP_PATH}`);
      return;
    }
    const host = hostnameOf(req.headers.host);
    if (host === undefined || !allowed.has(host)) {
      reject(res, 403, -32000, 'forbidden: Host not allowed');
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !allowed.has(originHostname(origin) ?? '')) {
      reject(res, 403, -32000, 'forbidden: Origin not allowed');
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      reject(res, 405, -32000, 'method not allowed: this stateless server takes POST only');
      return;
    }
    const token = TOKEN.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined) {
      res.setHeader('www-authenticate', 'Bearer realm="rune"');
      reject(
        res,
        401,
        -32001,
        'unauthenticated: send your Rune member token as "Authorization: Bearer rune_…"',
      );
      return;
    }
    const body = await readBody(req, maxBody);
    if (body === 'too-large') {
      res.setHeader('connection', 'close');
      reject(res, 413, -32000, `payload too large: at most ${maxBody} bytes`);
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(body.toString('utf8'));
    } catch {
      reject(res, 400, -32700, 'parse error: the body is not JSON');
      return;
    }
    const member = await memberFor(token);
    if (member === 'refused') {
      res.setHeader('www-authenticate', 'Bearer realm="rune", error="invalid_token"');
      reject(res, 401, -32001, 'unauthenticated: the Vault refused this token');
      return;
    }
    const server = createMcpServer(member.context);
    // No sessionIdGenerator: stateless, so any replica can answer any request.
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
    res.once('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, message);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.log(`http: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent) reject(res, 500, -32603, 'internal error');
      else res.destroy();
    });
  });
  http.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}${MCP_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const m of members.values()) m.context.session.close();
        http.close(() => {
          resolve();
        });
        http.closeAllConnections();
      }),
  };
}

function reject(res: ServerResponse, status: number, code: number, message: string): void {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The lowercase hostname of a Host header value (brackets kept for IPv6), or undefined. */
function hostnameOf(host: string | undefined): string | undefined {
  if (host === undefined || host === '') return undefined;
  try {
    return new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function originHostname(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.hostname.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** The body, or 'too-large' as soon as it passes `limit` (declared or streamed). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return 'too-large';
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) {
      req.resume();
      return 'too-large';
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
