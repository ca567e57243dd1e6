import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemberRegistry } from '../src/member-registry.js';
import { Capability } from '../src/roles.js';
import { hashSecret } from '../src/tokens.js';
import { caught, fakeClock, tempDir } from './helpers.js';

async function setup() {
  const dataDir = await tempDir();
  const clock = fakeClock();
  const registry = MemberRegistry.open({ dataDir, clock: clock.now });
  return { dataDir, clock, registry };
}

describe('member tokens', () => {
  it('returns a rune_ token once and stores only its SHA-256 hash', async () => {
    const { registry } = await setup();
    const { member, token } = registry.addMember({ name: 'Ada', email: 'Ada@Example.com', role: 'member' });
    expect(token).toMatch(/^rune_[A-Za-z0-9_-]{43}$/);
    expect(member.email).toBe('ada@example.com');
    expect(member.status).toBe('active');

    const stateText = await readFile(registry.statePath, 'utf8');
    expect(stateText).not.toContain(token);
    expect(stateText).not.toContain(token.slice(5));
    expect(stateText).toContain(hashSecret(token));
    // Listing and lookup expose no token material at all.
    const listed = JSON.stringify([registry.listMembers(), registry.getMember(member.id)]);
    expect(listed).not.toContain(token);
    expect(listed).not.toContain(hashSecret(token));
  });

  it('writes the state file with mode 0600', async () => {
    const { registry } = await setup();
    registry.addMember({ name: 'Ada', email: 'ada@example.com', role: 'member' });
    expect((await stat(registry.statePath)).mode & 0o777).toBe(0o600);
  });

  it('authenticates the current token and refuses wrong ones as "unauthenticated" with a precise reason', async () => {
    const { registry } = await setup();
    const { member, token } = registry.addMember({ name: 'Ada', email: 'ada@example.com', role: 'member' });
    expect(registry.authenticate(token).id).toBe(member.id);

    const unknown = await caught(() => registry.authenticate(`rune_${'A'.repeat(43)}`));
    expect([unknown.code, unknown.message, unknown.reason]).toEqual([
      'UNAUTHENTICATED',
      'unauthenticated',
      'unknown token',
    ]);
    const malformed = await caught(() => registry.authenticate('Bearer nonsense'));
    expect(malformed.reason).toBe('malformed token');
    const truncated = await caught(() => registry.authenticate(token.slice(0, -1)));
    expect(truncated.reason).toBe('malformed token');
  });

  it('refuses a revoked token at once, naming the member in the audit reason only', async () => {
    const { registry } = await setup();
    const { member, token } = registry.addMember({ name: 'Ada', email: 'ada@example.com', role: 'member' });
    expect(registry.revokeMember(member.id).status).toBe('revoked');
    const err = await caught(() => registry.authenticate(token));
    expect([err.code, err.message, err.reason, err.memberId]).toEqual([
      'UNAUTHENTICATED',
      'unauthenticated',
      'token revoked',
      member.id,
    ]);
    expect((await caught(() => registry.rotateToken(member.id))).code).toBe('CONFLICT');
  });

  it('refuses a token once its member has expired', async () => {
    const { registry, clock } = await setup();
    const { token } = registry.addMember({
      name: 'Temp',
      email: 'temp@example.com',
      role: 'reader',
      expiresAt: clock.now() + 60_000,
    });
    expect(registry.authenticate(token).status).toBe('active');
    clock.advance(60_000);
    expect((await caught(() => registry.authenticate(token))).reason).toBe('member expired');
    expect(registry.listMembers()[0]!.status).toBe('expired');
  });

  it('kills the old token on rotation and returns a working new one', async () => {
    const { registry } = await setup();
    const { member, token: oldToken } = registry.addMember({
      name: 'Ada',
      email: 'ada@example.com',
      role: 'member',
    });
    const { token: newToken } = registry.rotateToken(member.id);
    expect(newToken).not.toBe(oldToken);
    expect(registry.authenticate(newToken).id).toBe(member.id);
    const err = await caught(() => registry.authenticate(oldToken));
    expect([err.reason, err.memberId]).toEqual(['rotated-away token', member.id]);
    expect(await readFile(registry.statePath, 'utf8')).not.toContain(newToken);
  });

  it('refuses a removed member token and reports unknown ids as NOT_FOUND', async () => {
    const { registry } = await setup();
    const { member, token } = registry.addMember({ name: 'Ada', email: 'ada@example.com', role: 'member' });
    registry.removeMember(member.id);
    expect((await caught(() => registry.authenticate(token))).reason).toBe('unknown token');
    expect(
      (
        await caught(() => {
          registry.removeMember(member.id);
        })
      ).code,
    ).toBe('NOT_FOUND');
    expect(registry.listMembers()).toEqual([]);
  });

  it('rejects duplicate emails, unknown roles, bad emails and past expiries', async () => {
    const { registry, clock } = await setup();
    registry.addMember({ name: 'Ada', email: 'ada@example.com', role: 'member' });
    expect(
      (await caught(() => registry.addMember({ name: 'A', email: 'ADA@example.com', role: 'member' }))).code,
    ).toBe('CONFLICT');
    expect(
      (await caught(() => registry.addMember({ name: 'B', email: 'b@example.com', role: 'boss' }))).code,
    ).toBe('NOT_FOUND');
    expect(
      (await caught(() => registry.addMember({ name: 'C', email: 'not-an-email', role: 'member' }))).code,
    ).toBe('INVALID_REQUEST');
    const past = { name: 'D', email: 'd@example.com', role: 'member', expiresAt: clock.now() };
    expect((await caught(() => registry.addMember(past))).code).toBe('INVALID_REQUEST');
  });
});

describe('roles', () => {
  it('lets a reader recall but not capture', async () => {
    const { registry } = await setup();
    const { token } = registry.addMember({ name: 'Rae', email: 'rae@example.com', role: 'reader' });
    const reader = registry.authenticate(token);
    expect(registry.authorize(reader, Capability.RECALL).name).toBe('reader');
    const err = await caught(() => registry.authorize(reader, Capability.CAPTURE));
    expect([err.code, err.message, err.reason]).toEqual([
      'FORBIDDEN',
      'forbidden',
      'role "reader" lacks capability "capture"',
    ]);
  });

  it('lets a member capture and recall but not manage members; admin may do everything', async () => {
    const { registry } = await setup();
    const m = registry.addMember({ name: 'M', email: 'm@example.com', role: 'member' }).member;
    const a = registry.addMember({ name: 'A', email: 'a@example.com', role: 'admin' }).member;
    registry.authorize(m, Capability.CAPTURE);
    expect((await caught(() => registry.authorize(m, Capability.MANAGE_MEMBERS))).code).toBe('FORBIDDEN');
    for (const cap of Object.values(Capability)) registry.authorize(a, cap);
  });

  it('gives each role its top-k cap: member and reader 10, admin 50, custom as defined', async () => {
    const { registry } = await setup();
    const m = registry.addMember({ name: 'M', email: 'm@example.com', role: 'member' }).member;
    const r = registry.addMember({ name: 'R', email: 'r@example.com', role: 'reader' }).member;
    const a = registry.addMember({ name: 'A', email: 'a@example.com', role: 'admin' }).member;
    registry.defineRole({
      name: 'bot',
      capabilities: ['recall'],
      topKCap: 3,
      rateLimit: { requestsPerMinute: 10, burst: 2 },
    });
    const b = registry.addMember({ name: 'B', email: 'b@example.com', role: 'bot' }).member;
    expect([m, r, a, b].map((x) => registry.getRole(x.role).topKCap)).toEqual([10, 10, 50, 3]);
  });

  it('refuses to remove a custom role still in use or to redefine a built-in one', async () => {
    const { registry } = await setup();
    const def = {
      name: 'bot',
      capabilities: ['recall'],
      topKCap: 3,
      rateLimit: { requestsPerMinute: 10, burst: 2 },
    };
    registry.defineRole(def);
    const { member } = registry.addMember({ name: 'B', email: 'b@example.com', role: 'bot' });
    expect(
      (
        await caught(() => {
          registry.removeRole('bot');
        })
      ).code,
    ).toBe('CONFLICT');
    registry.removeMember(member.id);
    registry.removeRole('bot');
    expect((await caught(() => registry.getRole('bot'))).code).toBe('NOT_FOUND');
    expect((await caught(() => registry.defineRole({ ...def, name: 'admin' }))).code).toBe('CONFLICT');
  });
});

describe('invitations', () => {
  it('exchanges a code exactly once for a member token, storing only the code hash', async () => {
    const { registry } = await setup();
    const { invitation, code } = registry.createInvitation({ role: 'member' });
    expect(code).toMatch(/^rune_inv_[A-Za-z0-9_-]{43}$/);
    expect(await readFile(registry.statePath, 'utf8')).not.toContain(code);

    const { member, token } = registry.redeemInvitation(code, { name: 'New', email: 'new@example.com' });
    expect(member.role).toBe('member');
    expect(registry.authenticate(token).id).toBe(member.id);
    expect(registry.listInvitations()[0]).toMatchObject({ id: invitation.id, redeemedBy: member.id });

    const again = await caught(() =>
      registry.redeemInvitation(code, { name: 'Eve', email: 'eve@example.com' }),
    );
    expect([again.code, again.reason]).toEqual([
      'UNAUTHENTICATED',
      `invitation ${invitation.id} already used`,
    ]);
    expect(registry.listMembers()).toHaveLength(1);
  });

  it('refuses an expired or unknown invitation code, and an invitation code used as a token', async () => {
    const { registry, clock } = await setup();
    const { code } = registry.createInvitation({ role: 'reader', ttlMs: 1_000 });
    expect((await caught(() => registry.authenticate(code))).reason).toBe('malformed token');
    clock.advance(1_000);
    const expired = await caught(() =>
      registry.redeemInvitation(code, { name: 'Late', email: 'late@example.com' }),
    );
    expect(expired.reason).toMatch(/expired$/);
    const unknown = await caught(() =>
      registry.redeemInvitation(`rune_inv_${'B'.repeat(43)}`, { name: 'X', email: 'x@example.com' }),
    );
    expect(unknown.reason).toBe('unknown invitation code');
    expect(registry.listMembers()).toEqual([]);
  });

  it('gives the invited member the expiry the invitation carried', async () => {
    const { registry, clock } = await setup();
    const memberExpiresAt = clock.now() + 7 * 24 * 3_600_000;
    const { code } = registry.createInvitation({ role: 'reader', ttlMs: 60_000, memberExpiresAt });
    const { member } = registry.redeemInvitation(code, { name: 'C', email: 'c@example.com' });
    expect(member.expiresAt).toBe(memberExpiresAt);
    expect((await caught(() => registry.createInvitation({ role: 'reader', ttlMs: 0 }))).code).toBe(
      'INVALID_REQUEST',
    );
  });
});

describe('persistence', () => {
  it('keeps members, roles, rotations and spent invitations across a reopen', async () => {
    const { dataDir, clock, registry } = await setup();
    const { member, token } = registry.addMember({ name: 'Ada', email: 'ada@example.com', role: 'member' });
    const { token: rotated } = registry.rotateToken(member.id);
    registry.defineRole({
      name: 'bot',
      capabilities: ['recall'],
      topKCap: 3,
      rateLimit: { requestsPerMinute: 1, burst: 1 },
    });
    const { code } = registry.createInvitation({ role: 'bot' });
    registry.redeemInvitation(code, { name: 'Bot', email: 'bot@example.com' });

    const reopened = MemberRegistry.open({ dataDir, clock: clock.now });
    expect(reopened.listMembers()).toEqual(registry.listMembers());
    expect(reopened.authenticate(rotated).id).toBe(member.id);
    expect((await caught(() => reopened.authenticate(token))).reason).toBe('rotated-away token');
    expect(reopened.getRole('bot').topKCap).toBe(3);
    expect(
      (await caught(() => reopened.redeemInvitation(code, { name: 'Z', email: 'z@example.com' }))).reason,
    ).toMatch(/already used/);
  });

  it('refuses a corrupt state file with STATE_CORRUPT instead of starting empty', async () => {
    const { dataDir, registry } = await setup();
    registry.addMember({ name: 'Ada', email: 'ada@example.com', role: 'member' });
    const original = await readFile(registry.statePath, 'utf8');

    await writeFile(registry.statePath, original.slice(0, original.length / 2));
    const truncated = await caught(() => MemberRegistry.open({ dataDir }));
    expect(truncated.code).toBe('STATE_CORRUPT');
    expect(truncated.message).toMatch(/vault-state\.json is corrupt: not valid JSON/);

    await writeFile(registry.statePath, original.replace(/"tokenHash": "[0-9a-f]+"/, '"tokenHash": "xyz"'));
    const badField = await caught(() => MemberRegistry.open({ dataDir }));
    expect(badField.code).toBe('STATE_CORRUPT');
    expect(badField.message).toMatch(/state\.members\[0\]\.tokenHash: expected 64 lowercase hex/);

    await writeFile(registry.statePath, original.replace('"role": "member"', '"role": "ghost"'));
    expect((await caught(() => MemberRegistry.open({ dataDir }))).message).toMatch(
      /state\.members\[0\]\.role/,
    );
    const twice = JSON.parse(original) as { members: unknown[] };
    twice.members.push(twice.members[0]);
    await writeFile(registry.statePath, JSON.stringify(twice));
    expect((await caught(() => MemberRegistry.open({ dataDir }))).message).toMatch(/unique ids/);

    await writeFile(registry.statePath, original.replace('"role": "member"', '"role": "ghost"'));
    // The corrupt file is left exactly as found for the operator.
    expect(await readFile(registry.statePath, 'utf8')).toContain('ghost');
  });

  it('leaves no temp files behind after writes', async () => {
    const { dataDir, registry } = await setup();
    for (let i = 0; i < 3; i++)
      registry.addMember({ name: `M${i}`, email: `m${i}@example.com`, role: 'member' });
    expect(await readdir(dataDir)).toEqual(['vault-state.json']);
  });

  it('fails a write with STORAGE_FAILED and keeps the previous state in memory and on disk', async () => {
    const { dataDir, registry } = await setup();
    // A directory where the state file should be makes the atomic rename fail.
    await mkdir(join(dataDir, 'vault-state.json', 'blocker'), { recursive: true });
    const err = await caught(() =>
      registry.addMember({ name: 'Ada', email: 'ada@example.com', role: 'member' }),
    );
    expect(err.code).toBe('STORAGE_FAILED');
    expect(registry.listMembers()).toEqual([]);
    expect((await readdir(dataDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await caught(() => MemberRegistry.open({ dataDir }))).code).toBe('STORAGE_FAILED');
  });
});
