import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeMemberConfig } from '@rune/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AddedMember,
  type AuditLine,
  type CliResult,
  type RuneStack,
  disposeStacks,
  errorCodeOf,
  forgedToken,
  sleep,
  startStack,
} from './stack-harness.js';

interface RecallJson {
  hits: { recordId: string; score: number; insight: string; context?: string; author?: string }[];
}

function recallJson(result: CliResult): RecallJson {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as RecallJson;
}

function capturedId(result: CliResult): string {
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { recordId: string }).recordId;
}

/** A ticket body the Vault accepts: a unit query of the stack's dimension, as little-endian float32. */
function ticketBody(stack: RuneStack, k = 1): string {
  const dim = stack.adminConfig.embedder?.dim ?? 384;
  const query = new Float32Array(dim);
  query[0] = 1;
  return JSON.stringify({
    indexId: stack.indexId,
    query: Buffer.from(query.buffer).toString('base64url'),
    k,
  });
}

let stack: RuneStack;
/** Added at start-up with a short expiry, so the wait for it overlaps the tests before it. */
let expiring: { member: AddedMember; expiresAt: number; statusBefore: number };

beforeAll(async () => {
  stack = await startStack();
  const expiresAt = Date.now() + 5_000;
  const member = await stack.addMember({ role: 'member', name: 'temp', expiresAt });
  const before = await stack.request('vault', {
    path: '/v1/keys/public',
    headers: { authorization: `Bearer ${member.token}` },
  });
  expiring = { member, expiresAt, statusBefore: before.status };
}, 90_000);

afterAll(async () => {
  await disposeStacks();
}, 30_000);

describe('capture and recall through the CLI', () => {
  const tag = randomBytes(4).toString('hex');
  const insight = `Payment retries back off exponentially capped at thirty seconds ${tag}`;
  const context = `The provider rate-limits bursts, incident ${tag}`;
  let recordId: string;

  it('recalls what the admin captured, with its insight and context', async () => {
    recordId = capturedId(
      await stack.rune(['capture', '--insight', insight, '--context', context, '--json']),
    );
    expect(recordId).toMatch(/^rec_/);
    const { hits } = recallJson(await stack.rune(['recall', 'payment retries back off', '--json']));
    const hit = hits.find((h) => h.recordId === recordId);
    expect(hit).toMatchObject({ insight, context, author: stack.adminConfig.memberId });
    expect(hits[0]?.recordId).toBe(recordId);
  });

  it("lets a second member, with their own token and config, recall the admin's memory", async () => {
    const member = await stack.addMember({ role: 'member', name: 'alice' });
    expect(member.token).not.toBe(stack.adminConfig.token);
    const { hits } = recallJson(
      await stack.rune(['recall', 'payment retries back off', '--json', '--k', '10'], {
        config: member.configPath,
      }),
    );
    expect(hits.find((h) => h.recordId === recordId)).toMatchObject({ insight, context });
    const audit = await stack.auditEntries();
    expect(audit.some((e) => e.actor === member.memberId && e.action === 'recall.open')).toBe(true);
  });
});

describe('refused credentials', () => {
  const deniedFor = async (actor: string, reason: string): Promise<AuditLine[]> =>
    (await stack.auditEntries()).filter(
      (e) => e.actor === actor && e.outcome === 'denied' && e.reason === reason,
    );

  function expectUnauthenticated(result: CliResult): void {
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/refused the request: unauthenticated \[UNAUTHENTICATED\]/);
    expect(result.stderr).toMatch(/^hint: .*token/m);
  }

  it('refuses a revoked member and audits the denial', async () => {
    const member = await stack.addMember({ role: 'member', name: 'revoked' });
    const before = await stack.request('vault', {
      path: '/v1/keys/public',
      headers: { authorization: `Bearer ${member.token}` },
    });
    expect(before.status).toBe(200);
    const revoked = await stack.request('vault', {
      method: 'DELETE',
      path: `/v1/members/${member.memberId}`,
      headers: { authorization: `Bearer ${stack.adminConfig.token}` },
    });
    expect(revoked.status).toBe(200);
    expect(JSON.parse(revoked.text)).toMatchObject({ member: { status: 'revoked' } });

    expectUnauthenticated(await stack.rune(['recall', 'anything', '--json'], { config: member.configPath }));
    expect(await deniedFor(member.memberId, 'token revoked')).not.toHaveLength(0);
  });

  it('refuses a member once their expiry has passed and audits the denial', async () => {
    const { member, expiresAt, statusBefore } = expiring;
    expect(statusBefore).toBe(200);
    await sleep(Math.max(0, expiresAt - Date.now()) + 300);

    expectUnauthenticated(
      await stack.rune(['capture', '--insight', 'too late to write this'], { config: member.configPath }),
    );
    expect(await deniedFor(member.memberId, 'member expired')).not.toHaveLength(0);
  });

  it('refuses a token the Vault never issued and audits it as anonymous', async () => {
    const forgedConfig = join(stack.root, 'configs', 'forged.json');
    await writeMemberConfig(forgedConfig, { ...stack.adminConfig, token: forgedToken() });
    const before = (await deniedFor('anonymous', 'unknown token')).length;

    expectUnauthenticated(await stack.rune(['recall', 'anything'], { config: forgedConfig }));
    expect((await deniedFor('anonymous', 'unknown token')).length).toBeGreaterThan(before);
  });

  it('refuses to talk to a Vault whose certificate the config does not trust', async () => {
    const withoutCa = { ...stack.adminConfig };
    delete withoutCa.caCert;
    const untrusting = join(stack.root, 'configs', 'no-ca.json');
    await writeMemberConfig(untrusting, withoutCa);
    const result = await stack.rune(['recall', 'anything'], { config: untrusting });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/certificate that does not verify .*\[TLS_UNTRUSTED\]/);
    expect(result.stderr).toMatch(/^hint: .*caCert/m);
  });

  it('leaves an audit chain that the verifier accepts', async () => {
    const result = await stack.rune([
      'vault',
      'audit',
      'verify',
      '--data-dir',
      join(stack.dataDir, 'vault'),
      '--json',
    ]);
    expect(result.code, result.stdout).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true });
  });
});

describe('roles', () => {
  it('keeps a reader from capturing but lets them recall', async () => {
    const reader = await stack.addMember({ role: 'reader', name: 'reader' });
    const refused = await stack.rune(['capture', '--insight', 'readers cannot write this'], {
      config: reader.configPath,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/forbidden \[FORBIDDEN\]/);
    expect(refused.stderr).toMatch(/^hint: your role does not allow this/m);
    const denied = (await stack.auditEntries()).filter(
      (e) => e.actor === reader.memberId && e.action === 'capture.permit' && e.outcome === 'denied',
    );
    expect(denied[0]?.reason).toMatch(/lacks capability "capture"/);

    const recalled = await stack.rune(['recall', 'payment retries', '--json'], { config: reader.configPath });
    expect(recallJson(recalled).hits.length).toBeGreaterThan(0);
  });

  it("refuses a top-k above the member role's cap instead of clamping it", async () => {
    const member = await stack.addMember({ role: 'member', name: 'capped' });
    const [above, atCap] = await Promise.all([
      stack.rune(['recall', 'payment retries', '--k', '11', '--json'], { config: member.configPath }),
      stack.rune(['recall', 'payment retries', '--k', '10', '--json'], { config: member.configPath }),
    ]);
    expect(above.code).toBe(1);
    expect(above.stdout).toBe('');
    expect(above.stderr).toMatch(/topk 11 is above your role.s cap of 10 .*\[TOP_K_ABOVE_CAP\]/);
    expect(recallJson(atCap).hits.length, atCap.stderr + atCap.stdout).toBeGreaterThan(0);
    const denied = (await stack.auditEntries()).filter(
      (e) => e.actor === member.memberId && e.action === 'recall.ticket' && e.outcome === 'denied',
    );
    // The client asks the Vault for its role's cap first (GET /v1/members/me), so it refuses k = 11
    // itself and the Vault never sees a ticket it would deny; the Vault's own refusal is tested in
    // apps/vault/test.
    expect(denied).toEqual([]);
    const self = await stack.request('vault', {
      path: '/v1/members/me',
      headers: { authorization: `Bearer ${member.token}` },
    });
    expect(self.status).toBe(200);
    expect(JSON.parse(self.text)).toMatchObject({ member: { role: 'member' }, role: { topKCap: 10 } });
    expect((await stack.request('vault', { path: '/v1/members/me' })).status).toBe(401);
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After once a custom role exhausts its burst, then recovers', async () => {
    const defined = await stack.request('vault', {
      method: 'POST',
      path: '/v1/roles',
      headers: { authorization: `Bearer ${stack.adminConfig.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'bot',
        capabilities: ['capture', 'recall'],
        topKCap: 3,
        rateLimit: { requestsPerMinute: 60, burst: 2 },
      }),
    });
    expect(defined.status, defined.text).toBe(201);
    const bot = await stack.addMember({ role: 'bot', name: 'bot' });
    const ticket = () =>
      stack.request('vault', {
        method: 'POST',
        path: '/v1/tickets',
        headers: { authorization: `Bearer ${bot.token}`, 'content-type': 'application/json' },
        body: ticketBody(stack),
      });

    // 60/min refills one token a second; a slow machine may earn a few between requests.
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof ticket>> | undefined;
    for (let i = 0; i < 20 && limited === undefined; i++) {
      const res = await ticket();
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else expect(res.status, res.text).toBe(200);
    }
    expect(limited, `statuses ${statuses.join(',')}`).toBeDefined();
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(errorCodeOf(limited!.text)).toBe('RATE_LIMITED');
    const retryAfter = Number(limited!.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);

    await sleep(retryAfter * 1000 + 200);
    const again = await ticket();
    expect(again.status, again.text).toBe(200);

    const audit = await stack.auditEntries();
    expect(
      audit.some(
        (e) =>
          e.actor === bot.memberId && e.outcome === 'denied' && e.reason === 'rate limit 60/min exceeded',
      ),
    ).toBe(true);
    const metrics = await stack.request('vault', { path: '/metrics' });
    expect(metrics.text).toMatch(/^vault_rate_limited_total [1-9]/m);
  });

  it('tells the CLI user to slow down, with the wait, when the limit is hit', async () => {
    const bot = await stack.addMember({ role: 'bot', name: 'bot-cli' });
    // Drain the bucket just before the CLI asks; it refills one token a second.
    const drain = () =>
      stack.request('vault', {
        path: '/v1/keys/public',
        headers: { authorization: `Bearer ${bot.token}` },
      });
    const runs: CliResult[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const cli = stack.rune(['recall', 'payment retries', '--k', '3'], { config: bot.configPath });
      // Keep the bucket empty while the CLI starts up, so its first request is refused.
      const deadline = Date.now() + 8_000;
      const state = { isSettled: false };
      void cli.then(() => {
        state.isSettled = true;
      });
      while (!state.isSettled && Date.now() < deadline) {
        await drain();
        await sleep(50);
      }
      const result = await cli;
      runs.push(result);
      if (result.code === 1 && result.stderr.includes('[RATE_LIMITED]')) break;
    }
    const last = runs.at(-1)!;
    expect(last.code, last.stderr).toBe(1);
    expect(last.stderr).toMatch(/rate limit exceeded \[RATE_LIMITED\]/);
    expect(last.stderr).toMatch(/^hint: slow down; retry in \d+ s/m);
  }, 120_000);
});
