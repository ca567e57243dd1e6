import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSigner, importVerificationKey } from '@rune/protocol';
import { describe, expect, it } from 'vitest';
import { auditAnchorPath } from '../src/audit-anchor.js';
import { AuditLog, GENESIS_HASH, hashAuditEntry, verifyAuditLog } from '../src/audit-log.js';
import { caught, fakeClock, tempDir } from './helpers.js';

const SIGNER = createSigner(new Uint8Array(32).fill(3));

async function logWith(
  n: number,
  options: { isAnchored?: boolean } = {},
): Promise<{ path: string; lines: string[] }> {
  const path = join(await tempDir(), 'audit', 'audit.log');
  const clock = fakeClock();
  const log = await AuditLog.open(path, {
    clock: clock.now,
    ...(options.isAnchored === true ? { anchorSigner: SIGNER } : {}),
  });
  for (let i = 0; i < n; i++) {
    clock.advance(1_000);
    await log.append({
      actor: `mem_${i}`,
      action: i % 2 === 0 ? 'recall' : 'capture',
      outcome: i === 2 ? 'denied' : 'allowed',
      ...(i === 2 ? { reason: 'role "reader" lacks capability "capture"' } : { count: i, latencyMs: 1.5 }),
    });
  }
  await log.close();
  const lines = (await readFile(path, 'utf8')).split('\n').slice(0, -1);
  return { path, lines };
}

/** Re-seals an entry with a fresh, self-consistent hash (what a forger with file access can do). */
function reseal(entry: Record<string, unknown>): string {
  const body = { ...entry };
  delete body.hash;
  return JSON.stringify({ ...body, hash: hashAuditEntry(body) });
}

describe('audit log', () => {
  it('writes one hash-chained JSON line per decision and verifies', async () => {
    const { path, lines } = await logWith(5);
    expect(lines).toHaveLength(5);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({
      seq: 1,
      actor: 'mem_0',
      action: 'recall',
      outcome: 'allowed',
      prevHash: GENESIS_HASH,
    });
    expect(first.ts).toBe('2025-01-01T00:00:01.000Z');
    const second = JSON.parse(lines[1]!) as Record<string, unknown>;
    expect(second.prevHash).toBe(first.hash);
    expect(await verifyAuditLog(path)).toEqual({
      ok: true,
      entries: 5,
      head: { seq: 5, hash: (JSON.parse(lines[4]!) as { hash: string }).hash },
    });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('continues the chain after reopening', async () => {
    const { path } = await logWith(3);
    const log = await AuditLog.open(path);
    expect(log.head.seq).toBe(3);
    const entry = await log.append({
      actor: 'mem_x',
      action: 'member.add',
      outcome: 'allowed',
      target: 'mem_y',
    });
    await log.close();
    expect(entry.seq).toBe(4);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, entries: 4 });
  });

  it('keeps call order under concurrent appends', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open(path);
    const entries = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        log.append({ actor: `m${i}`, action: 'recall', outcome: 'allowed' }),
      ),
    );
    await log.close();
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, entries: 50 });
  });

  it('redacts a token pasted into a reason and rejects a bad action name', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open(path);
    const token = `rune_${'x'.repeat(43)}`;
    await log.append({ actor: 'anonymous', action: 'auth', outcome: 'denied', reason: `bad token ${token}` });
    expect(
      (await caught(() => log.append({ actor: 'a', action: 'Not An Action', outcome: 'allowed' }))).code,
    ).toBe('INVALID_REQUEST');
    await log.close();
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain(token);
    expect(text).toContain('bad token [redacted]');
  });

  describe('detects tampering with the line number', () => {
    async function tamper(edit: (lines: string[]) => string[] | string): Promise<unknown> {
      const { path, lines } = await logWith(5);
      const edited = edit([...lines]);
      await writeFile(path, typeof edited === 'string' ? edited : `${edited.join('\n')}\n`);
      return verifyAuditLog(path);
    }

    it('an edited field', async () => {
      const result = await tamper((l) => {
        l[2] = l[2]!.replace('"outcome":"denied"', '"outcome":"allowed"');
        return l;
      });
      expect(result).toEqual({
        ok: false,
        line: 3,
        reason: 'hash does not match the entry (edited)',
        entries: 2,
      });
    });

    it('an edited field with the hash recomputed', async () => {
      const result = await tamper((l) => {
        const e = JSON.parse(l[1]!) as Record<string, unknown>;
        l[1] = reseal({ ...e, actor: 'mem_innocent' });
        return l;
      });
      expect(result).toMatchObject({
        ok: false,
        line: 3,
        reason: 'prevHash does not match the previous entry',
      });
    });

    it('a deleted line', async () => {
      const result = await tamper((l) => [...l.slice(0, 1), ...l.slice(2)]);
      expect(result).toMatchObject({ ok: false, line: 2, reason: 'seq 3 out of order (expected 2)' });
    });

    it('two swapped lines', async () => {
      const result = await tamper((l) => [l[0]!, l[2]!, l[1]!, l[3]!, l[4]!]);
      expect(result).toMatchObject({ ok: false, line: 2 });
    });

    it('an inserted forged line with a recomputed hash but the wrong prevHash', async () => {
      const result = await tamper((l) => {
        const forged = reseal({
          seq: 3,
          ts: '2025-01-01T00:00:02.500Z',
          actor: 'mem_forger',
          action: 'recall',
          outcome: 'allowed',
          prevHash: 'f'.repeat(64),
        });
        return [l[0]!, l[1]!, forged, ...l.slice(2)];
      });
      expect(result).toMatchObject({
        ok: false,
        line: 3,
        reason: 'prevHash does not match the previous entry',
      });
    });

    it('an inserted forged line chained correctly, which breaks the next line', async () => {
      const result = await tamper((l) => {
        const prev = JSON.parse(l[1]!) as { hash: string };
        const forged = reseal({
          seq: 3,
          ts: 't',
          actor: 'mem_f',
          action: 'recall',
          outcome: 'allowed',
          prevHash: prev.hash,
        });
        return [l[0]!, l[1]!, forged, ...l.slice(2)];
      });
      expect(result).toMatchObject({ ok: false, line: 4 });
    });

    it('a file truncated mid-line', async () => {
      const result = await tamper((l) => `${l.join('\n')}\n`.slice(0, -20));
      expect(result).toMatchObject({
        ok: false,
        line: 5,
        reason: 'incomplete final line (truncated or a crash mid-write)',
      });
    });

    it('whole lines cut from the end, given the recorded head', async () => {
      const { path, lines } = await logWith(5);
      const head = { seq: 5, hash: (JSON.parse(lines[4]!) as { hash: string }).hash };
      await writeFile(path, `${lines.slice(0, 4).join('\n')}\n`);
      expect(await verifyAuditLog(path)).toMatchObject({ ok: true, entries: 4 });
      expect(await verifyAuditLog(path, { expectedHead: head })).toMatchObject({ ok: false, line: 5 });
    });

    it.each([
      ['a missing seq', (e: Record<string, unknown>) => ({ ...e, seq: 'one' }), 'seq: expected an integer'],
      [
        'a bad outcome',
        (e: Record<string, unknown>) => ({ ...e, outcome: 'maybe' }),
        'outcome: expected allowed/denied',
      ],
      [
        'a numeric reason',
        (e: Record<string, unknown>) => ({ ...e, reason: 1 }),
        'reason: expected a string',
      ],
      ['a string count', (e: Record<string, unknown>) => ({ ...e, count: '3' }), 'count: expected a number'],
      [
        'a short hash',
        (e: Record<string, unknown>) => ({ ...e, hash: 'abc' }),
        'hash: expected 64 hex characters',
      ],
    ])('a line with %s', async (_label, edit, reason) => {
      const result = await tamper((l) => {
        l[3] = JSON.stringify(edit(JSON.parse(l[3]!) as Record<string, unknown>));
        return l;
      });
      expect(result).toMatchObject({ ok: false, line: 4, reason });
    });

    it('a blank or non-JSON line', async () => {
      expect(await tamper((l) => [l[0]!, '', ...l.slice(1)])).toMatchObject({
        ok: false,
        line: 2,
        reason: 'empty line',
      });
      expect(await tamper((l) => [l[0]!, '[1]', ...l.slice(1)])).toMatchObject({
        line: 2,
        reason: 'not a JSON object',
      });
      expect(await tamper((l) => [l[0]!, 'garbage', ...l.slice(1)])).toMatchObject({
        line: 2,
        reason: 'not valid JSON',
      });
    });
  });

  it('refuses to reopen a tampered log with AUDIT_CHAIN_BROKEN', async () => {
    const { path, lines } = await logWith(3);
    await writeFile(path, `${[lines[0]!, lines[2]!].join('\n')}\n`);
    const err = await caught(() => AuditLog.open(path));
    expect(err.code).toBe('AUDIT_CHAIN_BROKEN');
    expect(err.message).toMatch(/line 2/);
  });

  describe('with an anchor signer', () => {
    it.each([1, 3])('refuses to reopen a log with its last %i line(s) cut off', async (cut) => {
      const { path, lines } = await logWith(5, { isAnchored: true });
      await writeFile(path, `${lines.slice(0, 5 - cut).join('\n')}\n`);
      const err = await caught(() => AuditLog.open(path, { anchorSigner: SIGNER }));
      expect(err.code).toBe('AUDIT_CHAIN_BROKEN');
      expect(err.message).toContain(`truncated: the anchor says 5 entries, the log has ${5 - cut}`);
      expect(err.message).toContain('Refusing to append');
    });

    it('refuses to reopen when the log is gone but the anchor is not', async () => {
      const { path } = await logWith(2, { isAnchored: true });
      await rm(path);
      const err = await caught(() => AuditLog.open(path, { anchorSigner: SIGNER }));
      expect(err.code).toBe('AUDIT_CHAIN_BROKEN');
      expect(err.message).toContain('the anchor says 2 entries, the log has 0');
    });

    it('refuses to reopen a log whose anchor was deleted or signed by another key', async () => {
      const { path } = await logWith(2, { isAnchored: true });
      const other = createSigner(new Uint8Array(32).fill(4));
      expect((await caught(() => AuditLog.open(path, { anchorSigner: other }))).message).toContain(
        `signed by key ${SIGNER.keyId}, not ${other.keyId}`,
      );
      await rm(auditAnchorPath(path));
      const err = await caught(() => AuditLog.open(path, { anchorSigner: SIGNER }));
      expect(err.code).toBe('AUDIT_CHAIN_BROKEN');
      expect(err.message).toContain('no anchor file');
    });

    it('reopens after a crash between a line and its anchor, and re-anchors at once', async () => {
      const { path, lines } = await logWith(3, { isAnchored: true });
      const prev = JSON.parse(lines[2]!) as { seq: number; hash: string };
      const body = { seq: 4, ts: 't', actor: 'm', action: 'recall', outcome: 'allowed', prevHash: prev.hash };
      await writeFile(
        path,
        `${[...lines, JSON.stringify({ ...body, hash: hashAuditEntry(body) })].join('\n')}\n`,
      );
      const log = await AuditLog.open(path, { anchorSigner: SIGNER });
      expect(log.head.seq).toBe(4);
      await log.close();
      const key = importVerificationKey(SIGNER.publicKey);
      expect(await verifyAuditLog(path, { anchor: { verifyKey: key } })).toMatchObject({
        ok: true,
        entries: 4,
        anchor: { seq: 4 },
      });
      const reopened = await AuditLog.open(path, { anchorSigner: SIGNER });
      await reopened.append({ actor: 'm', action: 'recall', outcome: 'allowed' });
      await reopened.close();
      expect(await verifyAuditLog(path, { anchor: { verifyKey: key } })).toMatchObject({
        ok: true,
        entries: 5,
        anchor: { seq: 5 },
      });
    });

    it('starts a new log and anchor together, and reopens an empty one', async () => {
      const path = join(await tempDir(), 'audit.log');
      await (await AuditLog.open(path, { anchorSigner: SIGNER })).close();
      expect(await readFile(path, 'utf8')).toBe('');
      expect((await stat(auditAnchorPath(path))).mode & 0o777).toBe(0o600);
      const log = await AuditLog.open(path, { anchorSigner: SIGNER });
      expect(log.head.seq).toBe(0);
      await log.close();
    });
  });

  it('refuses appends after close with STORAGE_FAILED', async () => {
    const log = await AuditLog.open(join(await tempDir(), 'audit.log'));
    await log.close();
    await log.close();
    const err = await caught(() => log.append({ actor: 'a', action: 'recall', outcome: 'allowed' }));
    expect(err.code).toBe('STORAGE_FAILED');
  });

  it('reports a missing log as NOT_FOUND', async () => {
    const err = await caught(() => verifyAuditLog(join('/nonexistent', 'audit.log')));
    expect(err.code).toBe('NOT_FOUND');
  });
});
