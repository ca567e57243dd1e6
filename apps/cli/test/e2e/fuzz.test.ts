import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JsonHttpClient, RuneClient } from '@rune/client';
import { FRAME_CONTENT_TYPE, decodeBase64url, encodeBase64url, encodeFrame } from '@rune/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type AddedMember,
  type RawResponse,
  type RuneStack,
  disposeStacks,
  errorCodeOf,
  forgedToken,
  startStack,
} from './stack-harness.js';

/** Runs per route (RUNE_FUZZ_RUNS for a longer hunt); every body route of both services is fuzzed live. */
const RUNS_PER_ROUTE = Number(process.env.RUNE_FUZZ_RUNS ?? 40);
/** Bodies above this may see the connection closed under them after the 413 (the Vault limit is 4 MiB). */
const CLOSE_OK_ABOVE_BYTES = 1024 * 1024;

type Service = 'vault' | 'index';
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface RouteSpec {
  readonly service: Service;
  readonly method: 'POST' | 'DELETE';
  /** The path; `:id` is replaced by a fuzzed path segment. */
  readonly template: string;
  /** A body the route accepted (or would accept) in a real flow. */
  readonly valid: () => Record<string, Json>;
  /** Every field the route knows, required and optional. */
  readonly fields: readonly string[];
  /** What `:id` is when not fuzzed. */
  readonly id?: string;
}

interface FuzzCase {
  readonly body: Buffer;
  readonly contentType: string | undefined;
  readonly auth: string | undefined;
  readonly id: string;
  readonly what: string;
}

let stack: RuneStack;
let fuzzer: AddedMember;
let operatorToken: string;
/** Bodies the real client sent in one capture, recall and forget, keyed by "service path". */
const recorded = new Map<string, Record<string, Json>>();

beforeAll(async () => {
  stack = await startStack();
  operatorToken = (await readFile(join(stack.dataDir, 'index', 'operator.token'), 'utf8')).trim();
  // A role with every capability and a rate limit the fuzzer never reaches, so bodies get parsed.
  const role = await stack.vaultClient().post('/v1/roles', {
    name: 'fuzzer',
    capabilities: ['capture', 'recall', 'manage_members', 'read_audit', 'manage_keys'],
    topKCap: 100,
    rateLimit: { requestsPerMinute: 100_000, burst: 10_000 },
  });
  expect(role).toMatchObject({ role: { name: 'fuzzer' } });
  fuzzer = await stack.addMember({ role: 'fuzzer', name: 'fuzzer' });
  await recordRealBodies();
}, 120_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await disposeStacks();
}, 30_000);

/** One capture, recall and forget through the real client, keeping every JSON body it posted. */
async function recordRealBodies(): Promise<void> {
  const post = vi.spyOn(JsonHttpClient.prototype, 'post');
  // The search and its Vault opening travel as frames; the fuzzer attacks their JSON forms too.
  const postAcceptingFrame = vi.spyOn(JsonHttpClient.prototype, 'postAcceptingFrame');
  const postFrame = vi.spyOn(JsonHttpClient.prototype, 'postFrame');
  const client = await RuneClient.connect(fuzzer.config);
  try {
    const { recordId } = await client.capture({ insight: 'fuzz seed memory about retries', context: 'seed' });
    await client.capture({ insight: 'second fuzz seed memory about ledgers' });
    const { hits } = await client.recall('fuzz seed memory retries', { k: 2 });
    expect(hits.map((h) => h.recordId)).toContain(recordId);
    await client.forget(recordId);
  } finally {
    client.close();
  }
  const keep = (client: JsonHttpClient, path: string, body: unknown) => {
    recorded.set(
      `${client.service} ${path.replace(/^\/v1\/indexes\/[^/]+\//, '/v1/indexes/:id/')}`,
      body as Record<string, Json>,
    );
  };
  post.mock.calls.forEach(([path, body], i) => {
    keep(post.mock.contexts[i] as JsonHttpClient, path, body);
  });
  postAcceptingFrame.mock.calls.forEach(([path, body], i) => {
    keep(postAcceptingFrame.mock.contexts[i] as JsonHttpClient, path, body);
  });
  postFrame.mock.calls.forEach(([path, head, blobs], i) => {
    const blocks = blobs.map((b) => encodeBase64url(b));
    keep(postFrame.mock.contexts[i] as JsonHttpClient, path, { ...(head as object), blocks });
  });
  post.mockRestore();
  postAcceptingFrame.mockRestore();
  postFrame.mockRestore();
}

function real(key: string): () => Record<string, Json> {
  return () => {
    const body = recorded.get(key);
    if (body === undefined) throw new Error(`the real flow posted no body to ${key}`);
    return body;
  };
}

const inOneDay = () => Date.now() + 86_400_000;

const ROUTES: readonly RouteSpec[] = [
  {
    service: 'vault',
    method: 'POST',
    template: '/v1/indexes',
    fields: ['indexId', 'dim'],
    valid: () => ({ indexId: 'team', dim: 384 }),
  },
  {
    service: 'vault',
    method: 'POST',
    template: '/v1/permits',
    fields: ['indexId'],
    valid: real('vault /v1/permits'),
  },
  {
    service: 'vault',
    method: 'POST',
    template: '/v1/tickets',
    fields: ['indexId', 'query', 'k'],
    valid: real('vault /v1/tickets'),
  },
  {
    service: 'vault',
    method: 'POST',
    template: '/v1/results',
    fields: ['ticket', 'result', 'blocks'],
    valid: real('vault /v1/results'),
  },
  {
    service: 'vault',
    method: 'POST',
    template: '/v1/records/forget',
    fields: ['indexId', 'recordId'],
    valid: real('vault /v1/records/forget'),
  },
  {
    service: 'vault',
    method: 'POST',
    template: '/v1/roles',
    fields: ['name', 'capabilities', 'topKCap', 'rateLimit'],
    valid: () => ({
      name: 'fuzzed',
      capabilities: ['recall'],
      topKCap: 5,
      rateLimit: { requestsPerMinute: 10, burst: 2 },
    }),
  },
  {
    service: 'vault',
    method: 'POST',
    template: '/v1/members',
    fields: ['name', 'email', 'role', 'expiresAt'],
    valid: () => ({ name: 'fuzzed', email: 'fuzzed@example.test', role: 'reader', expiresAt: inOneDay() }),
  },
  {
    service: 'vault',
    method: 'POST',
    template: '/v1/members/:id/rotate',
    fields: [],
    valid: () => ({}),
    id: 'mem_doesnotexist',
  },
  {
    service: 'vault',
    method: 'DELETE',
    template: '/v1/members/:id',
    fields: [],
    valid: () => ({}),
    id: 'mem_doesnotexist',
  },
  {
    service: 'vault',
    method: 'POST',
    template: '/v1/invitations',
    fields: ['role', 'ttlMs', 'memberExpiresAt'],
    valid: () => ({ role: 'reader', ttlMs: 60_000, memberExpiresAt: inOneDay() }),
  },
  {
    service: 'vault',
    method: 'POST',
    template: '/v1/invitations/redeem',
    fields: ['code', 'name', 'email'],
    valid: () => ({ code: `rune_inv_${'A'.repeat(43)}`, name: 'fuzzed', email: 'fuzzed@example.test' }),
  },
  {
    service: 'index',
    method: 'POST',
    template: '/v1/indexes',
    fields: ['indexId', 'paramSetId', 'dim', 'embedderId', 'queryMode'],
    valid: () => ({ indexId: 'team', paramSetId: 1, dim: 384, embedderId: 'lexical-hash-v1-d384' }),
  },
  {
    service: 'index',
    method: 'POST',
    template: '/v1/indexes/:id/records',
    fields: ['permit', 'vector', 'sealed'],
    valid: real('index /v1/indexes/:id/records'),
    id: 'team',
  },
  {
    service: 'index',
    method: 'POST',
    template: '/v1/indexes/:id/search',
    fields: ['ticket', 'query'],
    valid: real('index /v1/indexes/:id/search'),
    id: 'team',
  },
  {
    service: 'index',
    method: 'POST',
    template: '/v1/indexes/:id/records/fetch',
    fields: ['ticket', 'recordIds'],
    valid: real('index /v1/indexes/:id/records/fetch'),
    id: 'team',
  },
  {
    service: 'index',
    method: 'POST',
    template: '/v1/indexes/:id/records/delete',
    fields: ['permit'],
    valid: real('index /v1/indexes/:id/records/delete'),
    id: 'team',
  },
];

/** Texts that have broken JSON parsers and object handling elsewhere. */
const NASTY_BODIES: readonly string[] = [
  '',
  ' ',
  'null',
  '[]',
  '"x"',
  '1e999999',
  '-0',
  '{"a":1,"a":2}',
  '{"__proto__":{"isAdmin":true}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '"\\ud800"',
  '{"k":"\\u0000"}',
  '['.repeat(100_000),
  '{"a":'.repeat(5_000),
  `{"x":${'1'.repeat(10_000)}}`,
  '\uFEFF{}',
];

const jsonValue = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>;

/** Every path into an object or array, up to `depth` levels. */
function pathsOf(value: Json, depth = 3, prefix: (string | number)[] = []): (string | number)[][] {
  if (depth === 0 || value === null || typeof value !== 'object') return [];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((k) => {
    const child = (value as Record<string | number, Json>)[k] as Json;
    return [[...prefix, k], ...pathsOf(child, depth - 1, [...prefix, k])];
  });
}

/** A deep copy of `value` with the node at `path` replaced (or removed when `next` is undefined). */
function replaceAt(value: Json, path: readonly (string | number)[], next: Json | undefined): Json {
  const copy = structuredClone(value);
  if (path.length === 0) return next ?? null;
  let node = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  const last = path.at(-1)!;
  if (next === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else Reflect.deleteProperty(node, last);
  } else node[last] = next;
  return copy;
}

function bodyArbitrary(route: RouteSpec): fc.Arbitrary<{ body: Buffer; what: string }> {
  const valid = route.valid();
  const validText = JSON.stringify(valid);
  const paths = pathsOf(valid);
  const text = (what: string) => (t: string) => ({ body: Buffer.from(t, 'utf8'), what });
  const fieldObject = fc.record(Object.fromEntries([...route.fields, 'extra'].map((f) => [f, jsonValue])), {
    requiredKeys: [],
  });
  const arbitraries: fc.Arbitrary<{ body: Buffer; what: string }>[] = [
    jsonValue.map((v) => text('random JSON')(JSON.stringify(v))),
    fieldObject.map((o) => text('field names, random values')(JSON.stringify(o))),
    fc.constantFrom(...NASTY_BODIES).map(text('nasty text')),
    fc.uint8Array({ maxLength: 512 }).map((b) => ({ body: Buffer.from(b), what: 'random bytes' })),
    // Character flips in the valid text: mostly broken JSON, sometimes a subtly altered value.
    fc
      .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 0xffff })), { minLength: 1, maxLength: 8 })
      .map((flips) => {
        // The recorded bodies are ASCII JSON, so code units are characters.
        const chars = validText.split('');
        for (const [at, code] of flips)
          if (chars.length > 0) chars[at % chars.length] = String.fromCharCode(code);
        return text('flipped characters')(chars.join(''));
      }),
    // Byte flips, which also make invalid UTF-8.
    fc
      .array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 })
      .map((flips) => {
        const bytes = Buffer.from(validText, 'utf8');
        for (const [at, mask] of flips) if (bytes.length > 0) bytes[at % bytes.length]! ^= mask;
        return { body: bytes, what: 'flipped bytes' };
      }),
    fc.nat().map((n) => text('truncated')(validText.slice(0, n % Math.max(1, validText.length)))),
  ];
  if (paths.length > 0) {
    // Structured mutations: one value, deep inside a signed envelope too, replaced or removed.
    arbitraries.push(
      fc
        .tuple(fc.nat(), fc.option(jsonValue, { nil: undefined }))
        .map(([i, next]) =>
          text('one value replaced')(JSON.stringify(replaceAt(valid, paths[i % paths.length]!, next))),
        ),
    );
  }
  const keys = Object.keys(valid);
  const hugeTarget = keys.length > 0 ? keys : ['extra'];
  arbitraries.push(
    fc
      .tuple(
        fc.nat(),
        fc.constantFrom(10_000, 300_000, 2_000_000, 5_000_000),
        fc.constantFrom('A', 'é', '\\'),
      )
      .map(([i, n, ch]) => {
        const key = hugeTarget[i % hugeTarget.length]!;
        return text(`huge ${n}`)(JSON.stringify({ ...valid, [key]: ch.repeat(n) }));
      }),
    fc
      .integer({ min: 1_000, max: 200_000 })
      .map((n) => text('huge array')(JSON.stringify({ ...valid, [hugeTarget[0]!]: Array(n).fill(0) }))),
  );
  return fc.oneof(...arbitraries);
}

/** Mostly JSON, so most cases get past the media-type check to the body parser. */
const contentTypes: fc.Arbitrary<string | undefined> = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 6 },
  { arbitrary: fc.constantFrom('application/json; charset=utf-8', undefined), weight: 3 },
  {
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=zz',
      'application/jsonx',
      'application/json-seq',
      '',
    ),
    weight: 2,
  },
);

/** Mostly the valid credential (so bodies get parsed), else none, forged, truncated or malformed. */
function authArbitrary(route: RouteSpec): fc.Arbitrary<string | undefined> {
  const valid = route.service === 'vault' ? fuzzer.token : operatorToken;
  return fc.oneof(
    { arbitrary: fc.constant(`Bearer ${valid}`), weight: 3 },
    {
      arbitrary: fc.constantFrom<string | undefined>(
        undefined,
        `Bearer ${forgedToken()}`,
        `Bearer ${valid.slice(0, -1)}`,
        'Bearer',
        `Basic ${Buffer.from('admin:admin').toString('base64')}`,
        `Bearer ${'x'.repeat(8_000)}`,
        `bearer ${valid}`,
      ),
      weight: 2,
    },
  );
}

const idSegment: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 80 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom('team', '%zz', '%E0%A4%A', '%2e%2e', '..%2f..%2fvault', 'a'.repeat(300), '%00', 'x%2Fy'),
);

function caseArbitrary(route: RouteSpec): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      body: bodyArbitrary(route),
      contentType: contentTypes,
      auth: authArbitrary(route),
      id: route.id === undefined ? fc.constant('') : fc.oneof(fc.constant(route.id), idSegment),
    })
    .map(({ body, contentType, auth, id }) => ({ body: body.body, what: body.what, contentType, auth, id }));
}

async function send(route: RouteSpec, c: FuzzCase): Promise<RawResponse | Error> {
  const headers: Record<string, string> = {};
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  if (c.auth !== undefined) headers.authorization = c.auth;
  try {
    return await stack.request(route.service, {
      method: route.method,
      path: route.template.replace(':id', c.id),
      headers,
      body: c.body,
    });
  } catch (err: unknown) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

async function isLive(service: Service): Promise<boolean> {
  const res = await stack.request(service, { path: '/health/live' });
  return res.status === 200;
}

describe('fuzzing every request body route on the live services', () => {
  for (const route of ROUTES) {
    const name = `${route.service} ${route.method} ${route.template}`;
    it(`never answers ${name} with a server error`, async () => {
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(caseArbitrary(route), async (c) => {
          const res = await send(route, c);
          if (res instanceof Error) {
            // A peer that closes after a 413 may cut an upload short; anything else is a failure.
            expect(c.body.byteLength, `${c.what}: ${res.message}`).toBeGreaterThan(CLOSE_OK_ABOVE_BYTES);
            expect(await isLive(route.service)).toBe(true);
            return;
          }
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect(res.status, `${c.what} → ${res.status} ${res.text.slice(0, 200)}`).toBeLessThan(500);
          expect(res.status).toBeGreaterThanOrEqual(200);
          if (res.status >= 400)
            expect(errorCodeOf(res.text), res.text.slice(0, 200)).toMatch(/^[A-Z][A-Z0-9_]+$/);
        }),
        { numRuns: RUNS_PER_ROUTE, endOnFailure: true },
      );
      // Refusals dominate, but the route was reached (not only 401s or 415s).
      expect(
        [...statuses.keys()].some(
          (s) => s === 400 || s === 404 || s === 409 || s === 413 || s === 422 || s < 300,
        ),
      ).toBe(true);
    }, 120_000);
  }

  it('never answers a random or mutated frame posted to the Vault /v1/results with a server error', async () => {
    const body = real('vault /v1/results')();
    const blobs = (body.blocks as string[]).map((b) => decodeBase64url(b));
    const valid = encodeFrame({ ticket: body.ticket, result: body.result }, blobs);
    const mutated = fc
      .tuple(
        fc.nat({ max: valid.byteLength - 1 }),
        fc.integer({ min: 1, max: 255 }),
        fc.constantFrom('flip', 'cut', 'grow'),
      )
      .map(([at, x, how]) => {
        if (how === 'cut') return valid.subarray(0, at);
        if (how === 'grow') return Uint8Array.from([...valid, x]);
        const copy = Uint8Array.from(valid);
        copy[at] = (copy[at] ?? 0) ^ x;
        return copy;
      });
    const frames = fc.oneof(mutated, fc.uint8Array({ maxLength: 4096 }));
    await fc.assert(
      fc.asyncProperty(frames, async (frame) => {
        const res = await stack.request('vault', {
          method: 'POST',
          path: '/v1/results',
          headers: {
            authorization: `Bearer ${fuzzer.config.token}`,
            'content-type': FRAME_CONTENT_TYPE,
            'content-length': frame.byteLength,
          },
          body: Buffer.from(frame),
        });
        expect(res.status, res.text.slice(0, 200)).toBeLessThan(500);
      }),
      { numRuns: RUNS_PER_ROUTE, endOnFailure: true },
    );
  }, 120_000);

  it('leaves both services live and a normal capture and recall working', async () => {
    expect(await isLive('vault')).toBe(true);
    expect(await isLive('index')).toBe(true);
    const insight = `After the fuzzing the stack still remembers ${Date.now()}`;
    const captured = await stack.rune(['capture', '--insight', insight, '--json']);
    expect(captured.code, captured.stderr).toBe(0);
    const { recordId } = JSON.parse(captured.stdout) as { recordId: string };
    const recalled = await stack.rune(['recall', 'after the fuzzing the stack still remembers', '--json']);
    expect(recalled.code, recalled.stderr).toBe(0);
    const hits = (JSON.parse(recalled.stdout) as { hits: { recordId: string; insight: string }[] }).hits;
    expect(hits.find((h) => h.recordId === recordId)?.insight).toBe(insight);
    const verified = await stack.rune([
      'vault',
      'audit',
      'verify',
      '--data-dir',
      join(stack.dataDir, 'vault'),
    ]);
    expect(verified.code, verified.stdout).toBe(0);
    expect(stack.output().stderr).not.toMatch(/unhandled|uncaught|TypeError|RangeError/i);
  }, 120_000);
});
