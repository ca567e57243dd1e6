import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSigner, importVerificationKey, type Signer } from '@rune/protocol';
import { describe, expect, it } from 'vitest';
import {
  ANCHOR_FILE_BYTES,
  ANCHOR_SLOT_BYTES,
  anchorSigningInput,
  auditAnchorPath,
  decodeAnchorSlot,
  encodeAnchorSlot,
  readAuditAnchor,
} from '../src/audit-anchor.js';
import { AuditLog, hashAuditEntry, verifyAuditLog } from '../src/audit-log.js';
import { fakeClock, tempDir } from './helpers.js';

const VAULT = createSigner(new Uint8Array(32).fill(7));
const OTHER = createSigner(new Uint8Array(32).fill(9));
const VAULT_KEY = importVerificationKey(VAULT.publicKey);
const HEAD = { seq: 5, hash: 'a'.repeat(64), ts: '2025-01-01T00:00:05.000Z', next: 1 };

async function anchoredLog(n: number, signer: Signer = VAULT): Promise<{ path: string; lines: string[] }> {
  const path = join(await tempDir(), 'audit.log');
  const clock = fakeClock();
  const log = await AuditLog.open(path, { clock: clock.now, anchorSigner: signer });
  for (let i = 0; i < n; i++) {
    clock.advance(1_000);
    await log.append({ actor: `mem_${i}`, action: 'recall', outcome: 'allowed', count: i });
  }
  await log.close();
  return { path, lines: (await readFile(path, 'utf8')).split('\n').slice(0, -1) };
}

function verifyAnchored(path: string): ReturnType<typeof verifyAuditLog> {
  return verifyAuditLog(path, { anchor: { verifyKey: VAULT_KEY } });
}

/** The next chained line, written the way a crash after the line's fsync leaves it: no anchor. */
function nextLine(previous: string): string {
  const prev = JSON.parse(previous) as { seq: number; hash: string };
  const body = {
    seq: prev.seq + 1,
    ts: '2025-01-01T01:00:00.000Z',
    actor: 'mem_late',
    action: 'recall',
    outcome: 'allowed',
    prevHash: prev.hash,
  };
  return JSON.stringify({ ...body, hash: hashAuditEntry(body) });
}

async function writeLines(path: string, lines: readonly string[]): Promise<void> {
  await writeFile(path, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
}

async function patchAnchor(path: string, offset: number, bytes: Uint8Array): Promise<void> {
  const handle = await open(auditAnchorPath(path), 'r+');
  try {
    await handle.write(bytes, 0, bytes.length, offset);
  } finally {
    await handle.close();
  }
}

async function flipBit(path: string, offset: number): Promise<void> {
  const anchor = await readFile(auditAnchorPath(path));
  await patchAnchor(path, offset, Uint8Array.of(anchor[offset]! ^ 0x01));
}

describe('audit anchor slots', () => {
  it('encode to one fixed-size, newline-terminated slot that verifies under the signing key', () => {
    const slot = encodeAnchorSlot(HEAD, VAULT);
    expect(slot).toHaveLength(ANCHOR_SLOT_BYTES);
    expect(slot[ANCHOR_SLOT_BYTES - 1]).toBe(0x0a);
    expect(JSON.parse(slot.toString('utf8'))).toMatchObject({ v: 1, ...HEAD, keyId: VAULT.keyId });
    expect(decodeAnchorSlot(slot, VAULT_KEY)).toEqual({ head: HEAD });
  });

  it('sign a domain-separated input', () => {
    const input = Buffer.from(anchorSigningInput(HEAD)).toString('utf8');
    expect(input.startsWith('rune/v1/audit-head\0{')).toBe(true);
  });

  it('refuse a flipped bit anywhere in the signed fields', () => {
    const slot = encodeAnchorSlot(HEAD, VAULT);
    const text = slot.toString('utf8');
    for (const field of ['"seq":5', '"hash":"a', '"ts":"2025', '"next":1']) {
      const at = text.indexOf(field) + field.length - 1;
      const edited = Buffer.from(slot);
      edited[at] = edited[at]! ^ 0x01;
      expect(decodeAnchorSlot(edited, VAULT_KEY), field).not.toHaveProperty('head');
    }
  });

  it('refuse a slot signed by another key, even one claiming the Vault key id', () => {
    expect(decodeAnchorSlot(encodeAnchorSlot(HEAD, OTHER), VAULT_KEY)).toEqual({
      reason: `signed by key ${OTHER.keyId}, not ${VAULT.keyId}`,
    });
    const forged = encodeAnchorSlot(HEAD, OTHER).toString('utf8').replace(OTHER.keyId, VAULT.keyId);
    expect(decodeAnchorSlot(Buffer.from(forged), VAULT_KEY)).toEqual({
      reason: 'signature does not verify (edited)',
    });
  });

  it('refuse torn, short and empty slots', () => {
    const slot = encodeAnchorSlot(HEAD, VAULT);
    const torn = Buffer.concat([slot.subarray(0, 100), Buffer.alloc(ANCHOR_SLOT_BYTES - 100)]);
    expect(decodeAnchorSlot(torn, VAULT_KEY)).toHaveProperty('reason');
    expect(decodeAnchorSlot(slot.subarray(0, 200), VAULT_KEY)).toEqual({ reason: 'short (file truncated)' });
    expect(decodeAnchorSlot(Buffer.from(`${' '.repeat(ANCHOR_SLOT_BYTES - 1)}\n`), VAULT_KEY)).toEqual({
      reason: 'empty',
    });
  });

  it.each([
    ['an extra field', (r: Record<string, unknown>) => ({ ...r, extra: 1 }), 'unexpected fields'],
    ['another version', (r: Record<string, unknown>) => ({ ...r, v: 2 }), 'unsupported version 2'],
    ['a negative seq', (r: Record<string, unknown>) => ({ ...r, seq: -1 }), 'malformed seq'],
    ['a short hash', (r: Record<string, unknown>) => ({ ...r, hash: 'abc' }), 'malformed hash'],
    ['a numeric ts', (r: Record<string, unknown>) => ({ ...r, ts: 5 }), 'malformed ts'],
    ['a next of 0', (r: Record<string, unknown>) => ({ ...r, next: 0 }), 'malformed next'],
    [
      'an uppercase keyId',
      (r: Record<string, unknown>) => ({ ...r, keyId: 'A'.repeat(32) }),
      'malformed keyId',
    ],
    ['a short sig', (r: Record<string, unknown>) => ({ ...r, sig: 'AAAA' }), 'malformed signature'],
    [
      'a non-base64url sig',
      (r: Record<string, unknown>) => ({ ...r, sig: '!'.repeat(86) }),
      'malformed signature',
    ],
    ['an array', () => [1], 'not a JSON object'],
  ])('refuse a slot with %s', (_label, edit, reason) => {
    const record = JSON.parse(encodeAnchorSlot(HEAD, VAULT).toString('utf8')) as Record<string, unknown>;
    const slot = Buffer.from(`${JSON.stringify(edit(record)).padEnd(ANCHOR_SLOT_BYTES - 1, ' ')}\n`);
    expect(decodeAnchorSlot(slot, VAULT_KEY)).toEqual({ reason });
  });

  it('refuse a next outside 1..MAX_ANCHOR_NEXT when encoding', () => {
    expect(() => encodeAnchorSlot({ ...HEAD, next: 0 }, VAULT)).toThrow(RangeError);
  });
});

describe('audit log with a signed anchor', () => {
  it('keeps a two-slot anchor file whose newest slot is the log head', async () => {
    const { path, lines } = await anchoredLog(5);
    expect(auditAnchorPath(path)).toBe(join(path, '..', 'audit.head'));
    expect((await readFile(auditAnchorPath(path))).length).toBe(ANCHOR_FILE_BYTES);
    const last = JSON.parse(lines[4]!) as { hash: string };
    const result = await verifyAnchored(path);
    expect(result).toMatchObject({
      ok: true,
      entries: 5,
      anchor: { seq: 5, hash: last.hash, next: 1, keyId: VAULT.keyId, ts: '2025-01-01T00:00:05.000Z' },
    });
  });

  it.each([1, 3])('detects the last %i line(s) cut from the end', async (cut) => {
    const { path, lines } = await anchoredLog(5);
    await writeLines(path, lines.slice(0, 5 - cut));
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, entries: 5 - cut });
    expect(await verifyAnchored(path)).toEqual({
      ok: false,
      line: 6 - cut,
      reason: `truncated: the anchor says 5 entries, the log has ${5 - cut}`,
      entries: 5 - cut,
      isAnchorFailure: true,
    });
  });

  it('detects a log emptied or rewritten with a self-consistent chain', async () => {
    const { path, lines } = await anchoredLog(3);
    await writeLines(path, []);
    expect(await verifyAnchored(path)).toMatchObject({
      ok: false,
      reason: 'truncated: the anchor says 3 entries, the log has 0',
    });
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    const forgedBody: Record<string, unknown> = { ...first, actor: 'mem_innocent' };
    delete forgedBody.hash;
    const forged = JSON.stringify({ ...forgedBody, hash: hashAuditEntry(forgedBody) });
    await writeLines(path, [forged, nextLine(forged), nextLine(nextLine(forged))]);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, entries: 3 });
    expect(await verifyAnchored(path)).toMatchObject({
      ok: false,
      line: 3,
      reason: 'entry 3 differs from the signed anchor (edited or rewritten)',
    });
  });

  it('accepts one entry past the anchor (a crash between line and anchor), not two', async () => {
    const { path, lines } = await anchoredLog(4);
    const extra = nextLine(lines[3]!);
    await writeLines(path, [...lines, extra]);
    expect(await verifyAnchored(path)).toMatchObject({ ok: true, entries: 5, anchor: { seq: 4 } });
    await writeLines(path, [...lines, extra, nextLine(extra)]);
    expect(await verifyAnchored(path)).toMatchObject({
      ok: false,
      line: 6,
      reason:
        'the log has 6 entries, more than the 1 the signed anchor at 4 allows after it (lines appended outside the Vault)',
    });
  });

  it('falls back to the other slot when the slot being written is torn', async () => {
    const { path, lines } = await anchoredLog(5);
    // Slot 0 held seq 0 at creation; heads then alternate, so seq 5 is in slot 1 and seq 6 goes to slot 0.
    const extra = nextLine(lines[4]!);
    await writeLines(path, [...lines, extra]);
    const six = encodeAnchorSlot(
      { seq: 6, hash: (JSON.parse(extra) as { hash: string }).hash, ts: 't', next: 1 },
      VAULT,
    );
    await patchAnchor(path, 0, six.subarray(0, 150));
    const read = await readAuditAnchor(auditAnchorPath(path), VAULT_KEY);
    expect(read).toMatchObject({ isMissing: false, best: { seq: 5, slot: 1 } });
    expect(read.isMissing ? [] : read.refused).toEqual([expect.stringMatching(/^slot 0: torn/)]);
    expect(await verifyAnchored(path)).toMatchObject({ ok: true, entries: 6, anchor: { seq: 5 } });
  });

  it('refuses an anchor whose slots are edited (a flipped bit) to fit a truncated log', async () => {
    const { path, lines } = await anchoredLog(5);
    await writeLines(path, lines.slice(0, 2));
    const text = (await readFile(auditAnchorPath(path))).toString('utf8');
    await flipBit(path, text.indexOf('"seq":') + 6);
    await flipBit(path, ANCHOR_SLOT_BYTES + text.slice(ANCHOR_SLOT_BYTES).indexOf('"seq":') + 6);
    const result = await verifyAnchored(path);
    expect(result).toMatchObject({ ok: false, line: 0, isAnchorFailure: true });
    expect(result.ok ? '' : result.reason).toMatch(
      /^no slot of .*audit\.head verifies under key [0-9a-f]{32} \(slot 0: signature does not verify \(edited\); slot 1: signature does not verify \(edited\)\)$/,
    );
  });

  it('refuses an anchor signed by another key', async () => {
    const { path } = await anchoredLog(3, OTHER);
    const result = await verifyAnchored(path);
    expect(result).toMatchObject({ ok: false, isAnchorFailure: true });
    expect(result.ok ? '' : result.reason).toContain(
      `slot 0: signed by key ${OTHER.keyId}, not ${VAULT.keyId}`,
    );
  });

  it('reports a missing anchor file', async () => {
    const { path } = await anchoredLog(2);
    await rm(auditAnchorPath(path));
    expect(await verifyAnchored(path)).toMatchObject({
      ok: false,
      line: 0,
      reason: expect.stringMatching(
        /^no anchor file .*audit\.head: it was deleted, or the log was written without an anchor signer$/,
      ) as unknown,
    });
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, entries: 2 });
  });

  it('announces a queued batch in the anchor, so a crash mid-batch still verifies', async () => {
    const path = join(await tempDir(), 'audit.log');
    const log = await AuditLog.open(path, { anchorSigner: VAULT });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        log.append({ actor: `m${i}`, action: 'recall', outcome: 'allowed' }),
      ),
    );
    await log.close();
    expect(await verifyAnchored(path)).toMatchObject({ ok: true, entries: 10, anchor: { seq: 10, next: 1 } });
    // The first batch took the one entry the fresh anchor allowed and announced the nine queued behind it.
    const anchor = await readFile(auditAnchorPath(path));
    expect(decodeAnchorSlot(anchor.subarray(ANCHOR_SLOT_BYTES), VAULT_KEY)).toMatchObject({
      head: { seq: 1, next: 9 },
    });
    await patchAnchor(path, 0, Buffer.alloc(ANCHOR_SLOT_BYTES));
    expect(await verifyAnchored(path)).toMatchObject({ ok: true, entries: 10, anchor: { seq: 1 } });
  });
});
