import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessGate } from '../src/access-gate.js';
import { AuditLog, verifyAuditLog, type AuditEntry } from '../src/audit-log.js';
import { VaultError } from '../src/errors.js';
import { MemberRegistry } from '../src/member-registry.js';
import { RateLimiter } from '../src/rate-limiter.js';
import { Capability } from '../src/roles.js';
import { caught, fakeClock, tempDir } from './helpers.js';

const openLogs: AuditLog[] = [];
afterEach(async () => {
  await Promise.all(openLogs.splice(0).map((log) => log.close()));
});

async function setup() {
  const dataDir = await tempDir();
  const clock = fakeClock();
  const registry = MemberRegistry.open({ dataDir, clock: clock.now });
  const audit = await AuditLog.open(join(dataDir, 'audit.log'), { clock: clock.now });
  openLogs.push(audit);
  const gate = new AccessGate({
    registry,
    limiter: new RateLimiter({ clock: clock.now }),
    audit,
    clock: clock.now,
  });
  const entries = async (): Promise<AuditEntry[]> =>
    (await readFile(audit.path, 'utf8'))
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as AuditEntry);
  return { dataDir, clock, registry, audit, gate, entries };
}

const recall = (token: string) => ({ token, capability: Capability.RECALL, action: 'recall' });

describe('AccessGate', () => {
  it('runs an allowed operation and audits it with actor id, count and latency', async () => {
    const { clock, registry, gate, entries } = await setup();
    const { member, token } = registry.addMember({ name: 'Ada', email: 'ada@example.com', role: 'member' });
    const result = await gate.run(recall(token), ({ member: m, role }) => {
      clock.advance(12);
      return Promise.resolve({ result: `${m.id}:${role.topKCap}`, count: 7 });
    });
    expect(result).toBe(`${member.id}:10`);
    expect(await entries()).toMatchObject([
      { seq: 1, actor: member.id, action: 'recall', outcome: 'allowed', count: 7, latencyMs: 12 },
    ]);
  });

  it('denies and audits unknown, revoked and under-privileged callers without running the operation', async () => {
    const { registry, gate, entries } = await setup();
    const reader = registry.addMember({ name: 'R', email: 'r@example.com', role: 'reader' });
    const gone = registry.addMember({ name: 'G', email: 'g@example.com', role: 'member' });
    registry.revokeMember(gone.member.id);
    let ran = 0;
    const op = () => {
      ran += 1;
      return Promise.resolve({ result: null });
    };
    const e1 = await caught(() => gate.run(recall(`rune_${'Z'.repeat(43)}`), op));
    const e2 = await caught(() => gate.run(recall(gone.token), op));
    const e3 = await caught(() =>
      gate.run({ token: reader.token, capability: Capability.CAPTURE, action: 'capture' }, op),
    );
    expect([e1.message, e2.message, e3.message]).toEqual(['unauthenticated', 'unauthenticated', 'forbidden']);
    expect(ran).toBe(0);
    expect(await entries()).toMatchObject([
      { actor: 'anonymous', outcome: 'denied', reason: 'unknown token' },
      { actor: gone.member.id, outcome: 'denied', reason: 'token revoked' },
      {
        actor: reader.member.id,
        action: 'capture',
        outcome: 'denied',
        reason: 'role "reader" lacks capability "capture"',
      },
    ]);
  });

  it('rate-limits per role and lets the member back in after the retry-after', async () => {
    const { clock, registry, gate, entries } = await setup();
    registry.defineRole({
      name: 'slow',
      capabilities: ['recall'],
      topKCap: 5,
      rateLimit: { requestsPerMinute: 6, burst: 2 },
    });
    const { token } = registry.addMember({ name: 'S', email: 's@example.com', role: 'slow' });
    const op = () => Promise.resolve({ result: 'ok' });
    await gate.run(recall(token), op);
    await gate.run(recall(token), op);
    const limited = await caught(() => gate.run(recall(token), op));
    expect([limited.code, limited.retryAfterMs]).toEqual(['RATE_LIMITED', 10_000]);
    clock.advance(10_000);
    expect(await gate.run(recall(token), op)).toBe('ok');
    expect((await entries()).map((e) => e.outcome)).toEqual(['allowed', 'allowed', 'denied', 'allowed']);
  });

  it('audits a refusal raised by the operation itself as denied', async () => {
    const { registry, gate, entries } = await setup();
    const { token } = registry.addMember({ name: 'Ada', email: 'ada@example.com', role: 'member' });
    const err = await caught(() =>
      gate.run(recall(token), () =>
        Promise.reject(new VaultError('INVALID_REQUEST', 'topK', { reason: 'bad topK' })),
      ),
    );
    expect(err.code).toBe('INVALID_REQUEST');
    expect(await entries()).toMatchObject([{ outcome: 'denied', reason: 'bad topK' }]);
  });

  it('never writes a token or invitation code to the state file or the audit log', async () => {
    const { registry, gate, audit, entries } = await setup();
    const secrets: string[] = [];
    const admin = registry.addMember({ name: 'Admin', email: 'admin@example.com', role: 'admin' });
    secrets.push(admin.token);
    const { code } = registry.createInvitation({ role: 'reader' });
    secrets.push(code);
    const invited = registry.redeemInvitation(code, { name: 'Rae', email: 'rae@example.com' });
    secrets.push(invited.token);
    const rotated = registry.rotateToken(invited.member.id);
    secrets.push(rotated.token);
    const op = () => Promise.resolve({ result: null, count: 1 });
    for (const token of secrets) await gate.run(recall(token), op).catch(() => undefined);
    await gate
      .run({ token: rotated.token, capability: Capability.CAPTURE, action: 'capture' }, op)
      .catch(() => undefined);
    await gate.run(
      { token: admin.token, capability: Capability.MANAGE_MEMBERS, action: 'member.revoke' },
      () => {
        registry.revokeMember(invited.member.id);
        return Promise.resolve({ result: null });
      },
    );

    const files = [await readFile(registry.statePath, 'utf8'), await readFile(audit.path, 'utf8')];
    for (const secret of secrets) {
      for (const text of files) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(secret.slice(-43));
      }
    }
    expect((await entries()).length).toBe(6);
    expect(await verifyAuditLog(audit.path)).toMatchObject({ ok: true, entries: 6 });
  });
});
