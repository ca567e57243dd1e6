import { verify as nodeVerify } from 'node:crypto';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import {
  SIGNATURE_BYTES,
  base64urlLength,
  canonicalBytes,
  decodeBase64url,
  encodeBase64url,
  type Signer,
  type VerificationKey,
} from '@rune/protocol';

/**
 * Signed head anchor of the audit log (`audit.head` beside `audit.log`). The hash chain alone
 * cannot tell a log cut short from a shorter log; the anchor, signed with the Vault's Ed25519 key
 * after each durable batch, says how long the log must be.
 *
 * Layout: two fixed slots of ANCHOR_SLOT_BYTES, each one JSON object padded with spaces and ended
 * by "\n". Writes alternate between the slots (one pwrite + fdatasync, no rename), so a torn
 * write damages only the slot being written and the other still holds the previous head. A slot
 * is self-validating: it counts only if its signature verifies.
 *
 * SECURITY: `next` bounds how many entries may legitimately follow the signed head (the batch
 * that was queued when the anchor was signed; a crash after the lines but before the next anchor
 * leaves exactly those). Serial appends keep it at 1. Locally undetectable by design: replacing
 * both files with an older consistent pair, deleting both, or damaging the newer slot to fall
 * back one anchor (losing at most its batch). Record heads elsewhere to catch those.
 */
export const ANCHOR_VERSION = 1;
export const ANCHOR_SLOT_BYTES = 512;
export const ANCHOR_FILE_BYTES = 2 * ANCHOR_SLOT_BYTES;
export const ANCHOR_FILE_MODE = 0o600;
/** Upper bound of `next`: entries one group commit may write beyond the last signed head. */
export const MAX_ANCHOR_NEXT = 256;

/** Not a protocol message kind, so an anchor signature can never verify as an envelope. */
const DOMAIN = new TextEncoder().encode('rune/v1/audit-head\0');
const HEX64 = /^[0-9a-f]{64}$/;
const KEY_ID = /^[0-9a-f]{32}$/;
const MAX_TS_CHARS = 40;
const SLOT_FIELDS = ['hash', 'keyId', 'next', 'seq', 'sig', 'ts', 'v'] as const;

/** The signed part of a slot. */
export interface AnchorHead {
  readonly seq: number;
  readonly hash: string;
  /** ISO 8601 UTC, when the anchor was written. */
  readonly ts: string;
  /** Entries the log may hold beyond `seq` (1 ≤ next ≤ MAX_ANCHOR_NEXT). */
  readonly next: number;
}

export interface SignedAnchor extends AnchorHead {
  readonly keyId: string;
  /** 0 or 1. */
  readonly slot: number;
}

export type AnchorRead =
  | { readonly isMissing: true }
  | {
      readonly isMissing: false;
      /** The highest-seq slot whose signature verifies; absent when none does. */
      readonly best?: SignedAnchor;
      /** Why each slot that does not count was refused, e.g. "slot 1: signature does not verify". */
      readonly refused: readonly string[];
    };

/** `audit.log` → `audit.head`; any other name gets `.head` appended. */
export function auditAnchorPath(logPath: string): string {
  return `${logPath.replace(/\.log$/, '')}.head`;
}

export function anchorSigningInput(head: AnchorHead): Uint8Array {
  const body = canonicalBytes({
    v: ANCHOR_VERSION,
    seq: head.seq,
    hash: head.hash,
    ts: head.ts,
    next: head.next,
  });
  const out = new Uint8Array(DOMAIN.length + body.length);
  out.set(DOMAIN, 0);
  out.set(body, DOMAIN.length);
  return out;
}

/** One slot's bytes: the signed head as JSON, space padded, "\n" last. */
export function encodeAnchorSlot(head: AnchorHead, signer: Signer): Buffer {
  if (!Number.isSafeInteger(head.next) || head.next < 1 || head.next > MAX_ANCHOR_NEXT) {
    throw new RangeError(`anchor next must be an integer from 1 to ${MAX_ANCHOR_NEXT}`);
  }
  const sig = encodeBase64url(signer.sign(anchorSigningInput(head)));
  const text = JSON.stringify({
    v: ANCHOR_VERSION,
    seq: head.seq,
    hash: head.hash,
    ts: head.ts,
    next: head.next,
    keyId: signer.keyId,
    sig,
  });
  if (text.length > ANCHOR_SLOT_BYTES - 1) throw new RangeError('anchor slot overflow');
  return Buffer.from(`${text.padEnd(ANCHOR_SLOT_BYTES - 1, ' ')}\n`, 'utf8');
}

function emptySlot(): Buffer {
  return Buffer.from(`${' '.repeat(ANCHOR_SLOT_BYTES - 1)}\n`, 'utf8');
}

/** Returns the verified head, or why the slot does not count ("empty" for a never-written slot). */
export function decodeAnchorSlot(
  bytes: Uint8Array,
  key: VerificationKey,
): { readonly head: AnchorHead } | { readonly reason: string } {
  if (bytes.length !== ANCHOR_SLOT_BYTES) return { reason: 'short (file truncated)' };
  if (bytes[ANCHOR_SLOT_BYTES - 1] !== 0x0a)
    return { reason: 'torn or overwritten (no terminating newline)' };
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength - 1)
    .toString('utf8')
    .trimEnd();
  if (text.length === 0) return { reason: 'empty' };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { reason: 'torn or overwritten (not JSON)' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { reason: 'not a JSON object' };
  const r = raw as Record<string, unknown>;
  if (Object.keys(r).sort().join(',') !== SLOT_FIELDS.join(',')) return { reason: 'unexpected fields' };
  const { v, seq, hash, ts, next, keyId, sig } = r;
  if (v !== ANCHOR_VERSION) return { reason: `unsupported version ${String(v)}` };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return { reason: 'malformed seq' };
  if (typeof hash !== 'string' || !HEX64.test(hash)) return { reason: 'malformed hash' };
  if (typeof ts !== 'string' || ts.length > MAX_TS_CHARS) return { reason: 'malformed ts' };
  if (typeof next !== 'number' || !Number.isSafeInteger(next) || next < 1 || next > MAX_ANCHOR_NEXT) {
    return { reason: 'malformed next' };
  }
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) return { reason: 'malformed keyId' };
  if (keyId !== key.keyId) return { reason: `signed by key ${keyId}, not ${key.keyId}` };
  if (typeof sig !== 'string' || sig.length !== base64urlLength(SIGNATURE_BYTES)) {
    return { reason: 'malformed signature' };
  }
  let signature: Uint8Array;
  try {
    signature = decodeBase64url(sig, 'sig');
  } catch {
    return { reason: 'malformed signature' };
  }
  const head: AnchorHead = { seq, hash, ts, next };
  if (!nodeVerify(null, anchorSigningInput(head), key.keyObject, signature)) {
    return { reason: 'signature does not verify (edited)' };
  }
  return { head };
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT';
}

/** Reads both slots; a slot that does not verify under `key` is skipped and its reason kept. */
export async function readAuditAnchor(path: string, key: VerificationKey): Promise<AnchorRead> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err: unknown) {
    if (isNotFound(err)) return { isMissing: true };
    throw err;
  }
  let best: SignedAnchor | undefined;
  const refused: string[] = [];
  for (const slot of [0, 1]) {
    const decoded = decodeAnchorSlot(
      bytes.subarray(slot * ANCHOR_SLOT_BYTES, (slot + 1) * ANCHOR_SLOT_BYTES),
      key,
    );
    if ('reason' in decoded) {
      refused.push(`slot ${slot}: ${decoded.reason}`);
    } else if (best === undefined || decoded.head.seq > best.seq) {
      best = { ...decoded.head, keyId: key.keyId, slot };
    }
  }
  return { isMissing: false, ...(best === undefined ? {} : { best }), refused };
}

/**
 * Why a log whose chain verifies does not match its anchor, or undefined when it does. `entries`
 * is the log's last seq; `hashAtAnchor` the hash of its entry at the anchor's seq (if it has one).
 * `line` is 1-based, 0 when the anchor file itself is at fault.
 */
export function anchorMismatch(
  read: AnchorRead,
  anchorPath: string,
  key: VerificationKey,
  entries: number,
  hashAtAnchor: string | undefined,
): { readonly line: number; readonly reason: string } | undefined {
  if (read.isMissing) {
    return {
      line: 0,
      reason: `no anchor file ${anchorPath}: it was deleted, or the log was written without an anchor signer`,
    };
  }
  const anchor = read.best;
  if (anchor === undefined) {
    return {
      line: 0,
      reason: `no slot of ${anchorPath} verifies under key ${key.keyId} (${read.refused.join('; ')})`,
    };
  }
  if (entries < anchor.seq) {
    return {
      line: entries + 1,
      reason: `truncated: the anchor says ${anchor.seq} entries, the log has ${entries}`,
    };
  }
  if (hashAtAnchor !== anchor.hash) {
    return {
      line: anchor.seq,
      reason: `entry ${anchor.seq} differs from the signed anchor (edited or rewritten)`,
    };
  }
  if (entries > anchor.seq + anchor.next) {
    return {
      line: anchor.seq + anchor.next + 1,
      reason:
        `the log has ${entries} entries, more than the ${anchor.next} the signed anchor at ${anchor.seq} ` +
        'allows after it (lines appended outside the Vault)',
    };
  }
  return undefined;
}

/** Writes heads into alternating slots of an open anchor file. */
export class AnchorWriter {
  readonly #handle: FileHandle;
  readonly #signer: Signer;
  #slot: number;

  private constructor(handle: FileHandle, signer: Signer, slot: number) {
    this.#handle = handle;
    this.#signer = signer;
    this.#slot = slot;
  }

  /** Creates (or replaces) the file with `head` in slot 0 and an empty slot 1, fsynced. */
  static async create(path: string, head: AnchorHead, signer: Signer): Promise<AnchorWriter> {
    const handle = await open(path, 'w', ANCHOR_FILE_MODE);
    try {
      await handle.chmod(ANCHOR_FILE_MODE);
      await handle.write(
        Buffer.concat([encodeAnchorSlot(head, signer), emptySlot()]),
        0,
        ANCHOR_FILE_BYTES,
        0,
      );
      await handle.sync();
    } catch (err: unknown) {
      await handle.close();
      throw err;
    }
    return new AnchorWriter(handle, signer, 1);
  }

  /** Opens an existing file; the next write goes to the slot that does not hold `current`. */
  static async open(path: string, current: SignedAnchor, signer: Signer): Promise<AnchorWriter> {
    const handle = await open(path, 'r+');
    return new AnchorWriter(handle, signer, 1 - current.slot);
  }

  /** One pwrite + fdatasync; the file keeps its size, so no metadata needs syncing. */
  async write(head: AnchorHead): Promise<void> {
    const bytes = encodeAnchorSlot(head, this.#signer);
    await this.#handle.write(bytes, 0, bytes.length, this.#slot * ANCHOR_SLOT_BYTES);
    await this.#handle.datasync();
    this.#slot = 1 - this.#slot;
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}
