import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { JsonHttpClient, writeMemberConfig, type MemberConfig } from '@rune/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../cli/src/stack/local-stack.js';
import { call, childEnv, closedPort, stdioClient, structured, tempDir, textOf } from './harness.js';

interface Hit {
  recordId: string;
  insight: string;
  supersededBy?: string;
}

const NOW = Date.now();
let root: { path: string; remove(): Promise<void> };
let stack: LocalStack;
let admin: Client;
let member: Client;
let memberConfigPath: string;
const openClients: Client[] = [];

async function open(extra: Record<string, string>): Promise<Client> {
  const { client } = await stdioClient(childEnv({ XDG_STATE_HOME: join(root.path, 'state'), ...extra }));
  openClients.push(client);
  return client;
}

beforeAll(async () => {
  root = await tempDir('rune-mcp-');
  stack = await startLocalStack({
    dataDir: join(root.path, 'data'),
    plainHttp: true,
    vaultPort: 0,
    indexPort: 0,
  });
  const vault = new JsonHttpClient({
    service: 'vault',
    baseUrl: stack.adminConfig.vaultUrl,
    token: stack.adminConfig.token,
  });
  const added = (await vault.post('/v1/members', {
    name: 'mia',
    email: 'mia@example.test',
    role: 'member',
  })) as {
    member: { id: string };
    token: string;
  };
  vault.close();
  memberConfigPath = join(root.path, 'mia.json');
  const config: MemberConfig = {
    ...stack.adminConfig,
    token: added.token,
    memberId: added.member.id,
    name: 'mia',
  };
  await writeMemberConfig(memberConfigPath, config);
  [admin, member] = await Promise.all([
    open({ RUNE_CONFIG: stack.adminConfigPath }),
    open({ RUNE_CONFIG: memberConfigPath }),
  ]);
});

afterAll(async () => {
  await Promise.all(openClients.map((c) => c.close()));
  await stack.close();
  await root.remove();
});

describe('rune mcp over stdio, against a real local stack', () => {
  it('lists the six tools with portable schemas and annotations', async () => {
    const { tools } = await admin.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      'capture',
      'batch_capture',
      'recall',
      'history',
      'forget',
      'status',
    ]);
    for (const tool of tools) {
      expect(tool.name).toMatch(/^[a-z0-9_-]{1,48}$/);
      expect(tool.description?.length).toBeGreaterThan(80);
      expect(tool.inputSchema.type).toBe('object');
      expect(JSON.stringify(tool.inputSchema)).not.toMatch(/\$schema|\$ref|"anyOf"|"type":\[/);
    }
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect(byName.get('recall')?.annotations).toMatchObject({ readOnlyHint: true, idempotentHint: true });
    expect(byName.get('forget')?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(byName.get('capture')?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    expect(byName.get('capture')?.inputSchema.required).toEqual(['insight']);
  });

  it('captures a memory, redacting secrets before encryption and saying what was redacted', async () => {
    const result = await call(admin, 'capture', {
      insight:
        'Payment webhooks are verified with the signing secret before parsing, because an unsigned replay once double-charged customers. ' +
        'The staging key sk-proj-AAAABBBBCCCCDDDDEEEE12345 must never be used in production; ask ops@example.com.',
      context: 'incident INC-481; password=hunter22 was in the runbook',
      title: 'Verify webhook signatures first',
      tags: ['payments', 'webhooks'],
      domain: 'payments',
      status: 'accepted',
    });
    expect(result.isError).toBeFalsy();
    const out = structured<{ outcome: string; recordId: string; redacted: Record<string, number> }>(result);
    expect(out.outcome).toBe('captured');
    expect(out.redacted).toEqual({ api_key: 1, password: 1, email: 1 });
    expect(textOf(result)).toContain('Redacted before encryption: 1 api_key, 1 password, 1 email');
    expect(textOf(result)).not.toMatch(/AAAABBBB|hunter22|ops@example/);

    const recalled = await call(admin, 'recall', { query: 'webhook signature verification replay', topk: 3 });
    const hit = structured<{ hits: (Hit & { context: string })[] }>(recalled).hits.find(
      (h) => h.recordId === out.recordId,
    );
    expect(hit?.insight).toContain('[REDACTED:api_key]');
    expect(hit?.insight).not.toContain('AAAABBBB');
    expect(hit?.context).toContain('password=[REDACTED:password]');

    const log = join(root.path, 'state', 'rune', 'history.jsonl');
    expect((await stat(log)).mode & 0o777).toBe(0o600);
    expect(await readFile(log, 'utf8')).not.toMatch(/AAAABBBB|hunter22|ops@example/);
  });

  it('refuses a near-duplicate, names the existing record and stores nothing', async () => {
    const first = structured<{ recordId: string }>(
      await call(admin, 'capture', {
        insight:
          'Database migrations run in a separate deploy step before the application rolls out, so a failed migration never leaves new code on an old schema.',
        domain: 'ci',
      }),
    );
    const before = await recordCount();
    const again = await call(admin, 'capture', {
      insight:
        'Database migrations run in a separate deploy step before the application rolls out, so a failed migration never leaves new code on an old schema!',
    });
    expect(again.isError).toBeFalsy();
    expect(structured(again)).toMatchObject({ outcome: 'near-duplicate', duplicateOf: first.recordId });
    expect(textOf(again)).toContain(`near-duplicate of existing record ${first.recordId}`);
    expect(await recordCount()).toBe(before);
  });

  it('recalls with each filter: domain, status, since and tags', async () => {
    const topic = 'cache invalidation for the product catalogue';
    const a = await capture(admin, {
      insight: `Redis ${topic} uses versioned keys so a deploy never serves stale prices; accepted after the pricing outage.`,
      domain: 'catalogue',
      status: 'accepted',
      tags: ['redis', 'pricing'],
    });
    const cut = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    const b = await capture(admin, {
      insight: `Memcached for ${topic} was rejected: no persistence and weaker eviction metrics than Redis gave us.`,
      domain: 'catalogue',
      status: 'rejected',
      tags: ['memcached'],
    });
    const c = await capture(admin, {
      insight: `Proposed: ${topic} by CDN surrogate keys purged from the admin panel, still under review by the web team.`,
      domain: 'web',
      status: 'proposed',
      tags: ['cdn', 'pricing'],
    });
    const ids = async (args: Record<string, unknown>) => {
      const result = await call(admin, 'recall', { query: topic, topk: 5, ...args });
      expect(result.isError).toBeFalsy();
      return structured<{ hits: Hit[] }>(result).hits.map((h) => h.recordId);
    };
    expect(new Set(await ids({ domain: 'catalogue' }))).toEqual(new Set([a, b]));
    expect(await ids({ status: 'rejected' })).toEqual([b]);
    expect(await ids({ status: 'proposed', domain: 'web' })).toEqual([c]);
    expect(new Set(await ids({ tags: ['pricing'] }))).toEqual(new Set([a, c]));
    const since = await ids({ since: cut });
    expect(since).toContain(b);
    expect(since).toContain(c);
    expect(since).not.toContain(a);
    expect(await ids({ since: new Date(NOW + 86_400_000).toISOString() })).toEqual([]);
    // Over-fetch: topk 1 with a filter still finds the one match below better-ranked others.
    expect(await ids({ topk: 1, tags: ['cdn'] })).toEqual([c]);
  });

  it('reports a batch item by item, storing the good ones despite a duplicate and a bad item', async () => {
    const result = await call(admin, 'batch_capture', {
      items: [
        {
          insight:
            'Feature flags are removed within two sprints of full rollout; stale flags caused the checkout regression in March.',
        },
        {
          insight:
            'Database migrations run in a separate deploy step before the application rolls out, so a failed migration never leaves new code on an old schema.',
        },
        { insight: 'A perfectly fine insight', title: 'x'.repeat(600) },
        { insight: '?!? ... !!!' },
      ],
    });
    expect(result.isError).toBeFalsy();
    const out = structured<{ items: { index: number; outcome: string; error?: { code: string } }[] }>(result);
    expect(out.items.map((i) => i.outcome)).toEqual(['captured', 'near-duplicate', 'rejected', 'rejected']);
    expect(out.items[2]?.error?.code).toBe('INVALID_INPUT');
    expect(out.items[3]?.error?.code).toBe('EMBED_EMPTY_TEXT');
    expect(textOf(result)).toMatch(/^Batch of 4: 1 captured, 1 near-duplicate, 2 rejected\./);
  });

  it("lists the member's own captures newest first, with filters", async () => {
    const all = structured<{ items: { recordId: string; at: string; domain?: string }[] }>(
      await call(admin, 'history', { limit: 50 }),
    ).items;
    expect(all.length).toBeGreaterThanOrEqual(6);
    const times = all.map((i) => Date.parse(i.at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    const web = structured<{ items: { domain?: string }[] }>(
      await call(admin, 'history', { domain: 'web' }),
    ).items;
    expect(web.map((i) => i.domain)).toEqual(['web']);
    // Mia captured nothing: another member's log entries are not hers.
    expect(structured<{ items: unknown[] }>(await call(member, 'history', {})).items).toEqual([]);
  });

  it('supersedes a record: the old one ranks down and names its successor', async () => {
    const old = await capture(admin, {
      insight: 'Log retention for the audit service is 30 days on local disk, rotated daily by logrotate.',
      domain: 'ops',
    });
    const result = await call(admin, 'forget', {
      recordId: old,
      mode: 'supersede',
      successor: {
        insight:
          'Log retention for the audit service is now 400 days in object storage, for the SOC 2 audit; local disk keeps 7 days.',
        domain: 'ops',
      },
    });
    expect(result.isError).toBeFalsy();
    const successor = structured<{ successor: { recordId: string } }>(result).successor.recordId;
    expect(textOf(result)).toContain(`Superseded record ${old} with new record ${successor}`);
    const hits = structured<{ hits: Hit[] }>(
      await call(admin, 'recall', { query: 'audit service log retention days', topk: 2 }),
    ).hits;
    expect(hits.map((h) => h.recordId)).toEqual([successor, old]);
    expect(hits[1]?.supersededBy).toBe(successor);
  });

  it('deletes only as author or admin, and reports the Vault refusal clearly', async () => {
    const id = await capture(admin, {
      insight: 'The on-call rotation hands over on Tuesdays at 10:00 UTC so both regions are awake.',
    });
    const refused = await call(member, 'forget', { recordId: id });
    expect(refused.isError).toBe(true);
    expect(structured<{ error: { code: string } }>(refused).error.code).toBe('FORBIDDEN');
    expect(textOf(refused)).toMatch(/How to fix: .*author or an admin|your role/);

    const deleted = await call(admin, 'forget', { recordId: id });
    expect(deleted.isError).toBeFalsy();
    expect(textOf(deleted)).toContain(`Deleted record ${id}`);
    const hits = structured<{ hits: Hit[] }>(
      await call(admin, 'recall', { query: 'on-call rotation handover Tuesday', topk: 5 }),
    ).hits;
    expect(hits.map((h) => h.recordId)).not.toContain(id);
  });

  it("refuses topk above the member's role cap, naming the cap", async () => {
    const result = await call(member, 'recall', { query: 'cache invalidation', topk: 11 });
    expect(result.isError).toBe(true);
    expect(structured<{ error: { code: string } }>(result).error.code).toBe('TOP_K_ABOVE_CAP');
    expect(textOf(result)).toContain('cap of 10');
    const ok = await call(member, 'recall', { query: 'cache invalidation', topk: 10, domain: 'catalogue' });
    expect(ok.isError).toBeFalsy();
    expect(structured<{ cap: number }>(ok).cap).toBe(10);
  });

  it('answers bad input with an isError result carrying a code and a hint, not a protocol error', async () => {
    for (const [tool, args] of [
      ['recall', { query: '' }],
      ['recall', { query: 'x', topk: 0 }],
      ['recall', { query: 'x', since: 'last tuesday' }],
      ['capture', { insight: 'ok', status: 'maybe' }],
      ['forget', { recordId: 'not an id!' }],
      ['forget', { recordId: 'r1', mode: 'supersede' }],
      ['no_such_tool', {}],
    ] as const) {
      const result = await call(admin, tool, args);
      expect(result.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(textOf(result)).toMatch(/^Error INVALID_INPUT: .+\nHow to fix: .+/);
    }
  });

  it('reports healthy status with latency, pinned key, embedder and index size', async () => {
    const result = await call(admin, 'status');
    expect(result.isError).toBeFalsy();
    const report = structured<{
      problems: unknown[];
      isKeyPinned: boolean;
      index: { records: number; embedderId: string };
    }>(result);
    expect(report.problems).toEqual([]);
    expect(report.isKeyPinned).toBe(true);
    expect(report.index.records).toBeGreaterThan(0);
    expect(textOf(result)).toMatch(/Vault: http:\/\/127\.0\.0\.1:\d+ — reachable \([\d.]+ ms\)/);
  });

  it('reports "not configured" with the fix from status and every other tool', async () => {
    const client = await open({ RUNE_CONFIG: join(root.path, 'missing', 'vault-config.json') });
    const status = await call(client, 'status');
    expect(status.isError).toBe(true);
    expect(textOf(status)).toContain('Rune is NOT CONFIGURED');
    expect(textOf(status)).toContain('rune configure');
    for (const [tool, args] of [
      ['capture', { insight: 'anything at all' }],
      ['batch_capture', { items: [{ insight: 'anything at all' }] }],
      ['recall', { query: 'anything' }],
      ['history', {}],
      ['forget', { recordId: 'r1' }],
    ] as const) {
      const result = await call(client, tool, args);
      expect(result.isError).toBe(true);
      expect(structured<{ error: { code: string; hint: string } }>(result).error).toMatchObject({
        code: 'NOT_CONFIGURED',
      });
    }
  });

  it('keeps serving when the Vault is down, and status says so with a fix', async () => {
    const downPath = join(root.path, 'down.json');
    await writeMemberConfig(downPath, {
      ...stack.adminConfig,
      vaultUrl: `http://127.0.0.1:${await closedPort()}`,
    });
    const client = await open({ RUNE_CONFIG: downPath });
    const status = await call(client, 'status');
    expect(status.isError).toBe(true);
    expect(textOf(status)).toMatch(/Vault: .* UNREACHABLE/);
    expect(structured<{ problems: { code: string; hint: string }[] }>(status).problems[0]).toMatchObject({
      code: 'VAULT_UNREACHABLE',
    });
    const recall = await call(client, 'recall', { query: 'cache invalidation' });
    expect(recall.isError).toBe(true);
    expect(textOf(recall)).toMatch(/^Error VAULT_UNREACHABLE: .+\nHow to fix: .+/);
    // Still alive after the failures.
    expect((await client.listTools()).tools).toHaveLength(6);
  });
});

async function capture(client: Client, args: Record<string, unknown>): Promise<string> {
  const result = await call(client, 'capture', args);
  expect(result.isError, textOf(result)).toBeFalsy();
  const out = structured<{ outcome: string; recordId: string }>(result);
  expect(out.outcome, textOf(result)).toBe('captured');
  return out.recordId;
}

async function recordCount(): Promise<number> {
  const index = new JsonHttpClient({ service: 'index', baseUrl: stack.adminConfig.indexUrl });
  try {
    return ((await index.get(`/v1/indexes/${stack.adminConfig.indexId}/stats`)) as { recordCount: number })
      .recordCount;
  } finally {
    index.close();
  }
}
