import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Signer, type VerificationKey, importVerificationKey } from '@rune/protocol';
import {
  type AnchorRead,
  AnchorWriter,
  MAX_ANCHOR_NEXT,
  type SignedAnchor,
  anchorMismatch,
  auditAnchorPath,
  readAuditAnchor,
} from './audit-anchor.js';
import { canonicalJson } from './canonical-json.js';
import { VaultError, VaultErrorCode, invalidRequest } from './errors.js';
import type { Clock } from './rate-limiter.js';
import { SECRET_IN_TEXT } from './tokens.js';

/** prevHash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);
export const AUDIT_FILE_MODE = 0o600;

export const AuditOutcome = { ALLOWED: 'allowed', DENIED: 'denied' } as const;
export type AuditOutcome = (typeof AuditOutcome)[keyof typeof AuditOutcome];

/** Actor recorded when no member could be identified (unknown or malformed token). */
export const ANONYMOUS_ACTOR = 'anonymous';

/** One line of the log. SECURITY: `actor` is a member id, never a token; no field holds a secret. */
export interface AuditEntry {
  readonly seq: number;
  /** ISO 8601 UTC. */
  readonly ts: string;
  readonly actor: string;
  readonly action: string;
  readonly outcome: AuditOutcome;
  readonly reason?: string;
  /** The object acted on (a member or invitation id), when not the actor. */
  readonly target?: string;
  /** Items returned or written (recall results, captured records). */
  readonly count?: number;
  readonly latencyMs?: number;
  readonly prevHash: string;
  readonly hash: string;
}

export type AuditRecord = Omit<AuditEntry, 'seq' | 'ts' | 'prevHash' | 'hash'>;

export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

export type AuditVerification =
  | {
      readonly ok: true;
      readonly entries: number;
      readonly head: AuditHead;
      /** The signed head the log was checked against (only when an anchor key was given). */
      readonly anchor?: SignedAnchor;
    }
  | {
      readonly ok: false;
      /** 1-based; 0 when the anchor file itself is at fault. */
      readonly line: number;
      readonly reason: string;
      readonly entries: number;
      /** The chain verifies but does not match the signed anchor (truncated, rewritten, missing anchor). */
      readonly isAnchorFailure?: true;
    };

export interface VerifyAuditLogOptions {
  /** A head recorded elsewhere that the log must end at exactly. */
  readonly expectedHead?: AuditHead;
  /** Check the log against its signed anchor file (`audit.head`) under the Vault's verify key. */
  readonly anchor?: { readonly verifyKey: VerificationKey };
}

const ACTION = /^[a-z][a-z0-9_.:-]{0,63}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** hash = SHA-256(prevHash ‖ canonical JSON of the entry without `hash`), hex. */
export function hashAuditEntry(entry: Omit<AuditEntry, 'hash'> | Record<string, unknown>): string {
  const prevHash = (entry as { prevHash?: unknown }).prevHash;
  return createHash('sha256')
    .update(typeof prevHash === 'string' ? prevHash : '', 'utf8')
    .update(canonicalJson(entry), 'utf8')
    .digest('hex');
}

/** SECURITY: a token pasted into a reason or target must never reach the log; strip it. */
function redact(text: string): string {
  return text.replace(SECRET_IN_TEXT, '[redacted]');
}

/** Checks one line after another; `head` is the last verified entry. */
class ChainVerifier {
  head: AuditHead = { seq: 0, hash: GENESIS_HASH };
  /** Hash of the entry at `watchSeq` once seen (GENESIS_HASH for seq 0). */
  hashAtWatch: string | undefined;
  readonly #watchSeq: number | undefined;

  constructor(watchSeq?: number) {
    this.#watchSeq = watchSeq;
    if (watchSeq === 0) this.hashAtWatch = GENESIS_HASH;
  }

  /** Returns a reason when the line breaks the chain. */
  check(text: string, isTerminated: boolean): string | undefined {
    if (!isTerminated) return 'incomplete final line (truncated or a crash mid-write)';
    if (text.length === 0) return 'empty line';
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return 'not valid JSON';
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not a JSON object';
    const e = raw as Record<string, unknown>;
    const { seq, ts, actor, action, outcome, prevHash, hash, ...rest } = e;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) return 'seq: expected an integer';
    if (typeof ts !== 'string' || typeof actor !== 'string' || typeof action !== 'string') {
      return 'ts, actor and action must be strings';
    }
    if (outcome !== AuditOutcome.ALLOWED && outcome !== AuditOutcome.DENIED)
      return 'outcome: expected allowed/denied';
    if (typeof prevHash !== 'string' || !HEX64.test(prevHash)) return 'prevHash: expected 64 hex characters';
    if (typeof hash !== 'string' || !HEX64.test(hash)) return 'hash: expected 64 hex characters';
    for (const key of ['reason', 'target'] as const) {
      if (rest[key] !== undefined && typeof rest[key] !== 'string') return `${key}: expected a string`;
    }
    for (const key of ['count', 'latencyMs'] as const) {
      if (rest[key] !== undefined && typeof rest[key] !== 'number') return `${key}: expected a number`;
    }
    if (seq !== this.head.seq + 1) return `seq ${seq} out of order (expected ${this.head.seq + 1})`;
    if (prevHash !== this.head.hash) return 'prevHash does not match the previous entry';
    const body: Record<string, unknown> = { ...e };
    delete body.hash;
    if (hashAuditEntry(body) !== hash) return 'hash does not match the entry (edited)';
    this.head = { seq, hash };
    if (seq === this.#watchSeq) this.hashAtWatch = hash;
    return undefined;
  }
}

/** Splits a file into lines by byte, streaming, so a large log is never read into memory at once. */
async function* readLines(path: string): AsyncGenerator<{ text: string; isTerminated: boolean }> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    let rest = Buffer.alloc(0);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      const chunk = Buffer.concat([rest, buf.subarray(0, bytesRead)]);
      let start = 0;
      let nl = chunk.indexOf(0x0a, start);
      while (nl !== -1) {
        yield { text: chunk.toString('utf8', start, nl), isTerminated: true };
        start = nl + 1;
        nl = chunk.indexOf(0x0a, start);
      }
      rest = Buffer.from(chunk.subarray(start));
    }
    if (rest.length > 0) yield { text: rest.toString('utf8'), isTerminated: false };
  } finally {
    await handle.close();
  }
}

interface ChainScan {
  readonly result: AuditVerification;
  /** Hash of the entry at the watched seq, when the log has it. */
  readonly hashAtWatch: string | undefined;
}

/** Verifies the hash chain alone, remembering the hash at `watchSeq` (the anchor's seq). */
async function scanChain(path: string, watchSeq?: number): Promise<ChainScan> {
  const verifier = new ChainVerifier(watchSeq);
  let line = 0;
  try {
    for await (const { text, isTerminated } of readLines(path)) {
      line += 1;
      const reason = verifier.check(text, isTerminated);
      if (reason !== undefined) {
        return { result: { ok: false, line, reason, entries: verifier.head.seq }, hashAtWatch: undefined };
      }
    }
  } catch (err: unknown) {
    if (typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT') {
      throw new VaultError(VaultErrorCode.NOT_FOUND, `no audit log at ${path}`, { cause: err });
    }
    throw new VaultError(VaultErrorCode.STORAGE_FAILED, `could not read ${path}: ${String(err)}`, {
      cause: err,
    });
  }
  return {
    result: { ok: true, entries: verifier.head.seq, head: verifier.head },
    hashAtWatch: verifier.hashAtWatch,
  };
}

/**
 * Verifies a whole audit log. Detects any edited, removed, inserted, reordered or partly
 * truncated line, reporting the first bad line (1-based). Whole lines cut from the end are
 * detectable only against a head kept elsewhere: the signed anchor file (`anchor`, what
 * `rune vault audit verify --data-dir` uses) or a recorded `expectedHead`.
 */
export async function verifyAuditLog(
  path: string,
  options: VerifyAuditLogOptions = {},
): Promise<AuditVerification> {
  const anchorPath = auditAnchorPath(path);
  const key = options.anchor?.verifyKey;
  const anchor = key === undefined ? undefined : await readAnchorFile(anchorPath, key);
  const { result, hashAtWatch } = await scanChain(
    path,
    anchor?.isMissing === false ? anchor.best?.seq : undefined,
  );
  if (!result.ok) return result;
  const { expectedHead } = options;
  if (
    expectedHead !== undefined &&
    (result.head.seq !== expectedHead.seq || result.head.hash !== expectedHead.hash)
  ) {
    return {
      ok: false,
      line: result.entries + 1,
      reason: `log ends at seq ${result.head.seq}, expected head seq ${expectedHead.seq} (lines removed from the end?)`,
      entries: result.entries,
    };
  }
  if (key === undefined || anchor === undefined) return result;
  const mismatch = anchorMismatch(anchor, anchorPath, key, result.entries, hashAtWatch);
  if (mismatch !== undefined)
    return { ok: false, ...mismatch, entries: result.entries, isAnchorFailure: true };
  return anchor.isMissing || anchor.best === undefined ? result : { ...result, anchor: anchor.best };
}

async function readAnchorFile(anchorPath: string, key: VerificationKey): Promise<AnchorRead> {
  try {
    return await readAuditAnchor(anchorPath, key);
  } catch (err: unknown) {
    throw new VaultError(VaultErrorCode.STORAGE_FAILED, `could not read ${anchorPath}: ${String(err)}`, {
      cause: err,
    });
  }
}

function chainBroken(path: string, line: number, reason: string): VaultError {
  return new VaultError(
    VaultErrorCode.AUDIT_CHAIN_BROKEN,
    `audit log ${path} fails verification at line ${line}: ${reason}. ` +
      'Refusing to append; preserve the file for investigation and start a new log.',
    { reason },
  );
}

function anchorBroken(path: string, anchorPath: string, reason: string): VaultError {
  return new VaultError(
    VaultErrorCode.AUDIT_CHAIN_BROKEN,
    `audit log ${path} does not match its signed anchor ${anchorPath}: ${reason}. ` +
      'Refusing to append; preserve both files for investigation and move them aside to start a new log.',
    { reason },
  );
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface AuditLogOptions {
  readonly clock?: Clock;
  /**
   * The Vault's signing key. With it, the log keeps a signed head anchor (`audit.head`) after
   * every durable batch and refuses to open a log that is shorter than (or differs from) it.
   */
  readonly anchorSigner?: Signer;
}

interface Pending {
  readonly line: string;
  readonly entry: AuditEntry;
  readonly resolve: (entry: AuditEntry) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Append-only, hash-chained JSON-lines audit log. Entries get their seq and hash synchronously
 * (so the chain order is the call order); writes are batched and each batch is fsynced before
 * its appends resolve. After any write failure the log refuses further appends (fail closed).
 *
 * With an anchor signer, each batch is followed by a signed head in `audit.head` (see
 * audit-anchor.ts) before its appends resolve, and a batch holds at most the `next` entries the
 * previous anchor allowed, so a crash between the two writes always leaves a log the anchor admits.
 */
export class AuditLog {
  readonly path: string;
  readonly #handle: FileHandle;
  readonly #clock: Clock;
  readonly #anchor: AnchorWriter | undefined;
  #head: AuditHead;
  /** Entries the next batch may take: what the last anchor allows beyond its head. */
  #batchLimit: number;
  #pending: Pending[] = [];
  #drain: Promise<void> | undefined;
  #failure: VaultError | undefined;
  #isClosed = false;
  #closing: Promise<void> | undefined;

  private constructor(
    path: string,
    handle: FileHandle,
    head: AuditHead,
    clock: Clock,
    anchor: { readonly writer: AnchorWriter; readonly next: number } | undefined,
  ) {
    this.path = path;
    this.#handle = handle;
    this.#head = head;
    this.#clock = clock;
    this.#anchor = anchor?.writer;
    this.#batchLimit = anchor?.next ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Opens (or creates) the log; an existing log must verify, and the chain continues from its
   * head. With `anchorSigner`, the log must also match its signed anchor: a log cut short is
   * refused with AUDIT_CHAIN_BROKEN like a broken chain.
   */
  static async open(path: string, options: AuditLogOptions = {}): Promise<AuditLog> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const clock = options.clock ?? Date.now;
    const signer = options.anchorSigner;
    const anchorPath = auditAnchorPath(path);
    const key = signer === undefined ? undefined : importVerificationKey(signer.publicKey);
    const anchor = key === undefined ? undefined : await readAnchorFile(anchorPath, key);
    const current = anchor?.isMissing === false ? anchor.best : undefined;
    let head: AuditHead = { seq: 0, hash: GENESIS_HASH };
    let hashAtAnchor: string | undefined;
    let isNew = false;
    try {
      const scan = await scanChain(path, current?.seq);
      if (!scan.result.ok) throw chainBroken(path, scan.result.line, scan.result.reason);
      head = scan.result.head;
      hashAtAnchor = scan.hashAtWatch;
    } catch (err: unknown) {
      if (!(err instanceof VaultError && err.code === VaultErrorCode.NOT_FOUND)) throw err;
      isNew = true;
      hashAtAnchor = GENESIS_HASH;
    }
    // An empty log without a usable anchor is a new log (or a crash while creating one).
    const isFreshAnchor = key !== undefined && head.seq === 0 && (current === undefined || current.seq === 0);
    if (key !== undefined && anchor !== undefined && !isFreshAnchor) {
      const mismatch = anchorMismatch(anchor, anchorPath, key, head.seq, hashAtAnchor);
      if (mismatch !== undefined) throw anchorBroken(path, anchorPath, mismatch.reason);
    }

    let writer: AnchorWriter | undefined;
    let handle: FileHandle | undefined;
    try {
      let next = 1;
      if (signer !== undefined) {
        const ts = new Date(clock()).toISOString();
        if (current === undefined) {
          // Before the log file exists, so a crash never leaves a new log without its anchor.
          writer = await AnchorWriter.create(anchorPath, { ...head, ts, next }, signer);
        } else {
          writer = await AnchorWriter.open(anchorPath, current, signer);
          // Re-anchor entries a crash left past the anchor, so its allowance does not accumulate.
          if (current.seq !== head.seq) await writer.write({ ...head, ts, next });
          else next = current.next;
        }
      }
      handle = await open(path, 'a', AUDIT_FILE_MODE);
      await handle.chmod(AUDIT_FILE_MODE);
      // Make new directory entries durable, or a crash could lose the whole log or its anchor.
      if (isNew || (signer !== undefined && current === undefined)) fsyncDir(dirname(path));
      return new AuditLog(path, handle, head, clock, writer === undefined ? undefined : { writer, next });
    } catch (err: unknown) {
      await handle?.close();
      await writer?.close();
      throw new VaultError(VaultErrorCode.STORAGE_FAILED, `could not prepare ${path}: ${String(err)}`, {
        cause: err,
      });
    }
  }

  get head(): AuditHead {
    return this.#head;
  }

  /** Appends one decision; resolves once it is on disk (fsynced). */
  append(record: AuditRecord): Promise<AuditEntry> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#isClosed) {
      return Promise.reject(
        new VaultError(VaultErrorCode.STORAGE_FAILED, `audit log ${this.path} is closed`),
      );
    }
    let entry: AuditEntry;
    try {
      entry = this.#seal(record);
    } catch (err: unknown) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.#head = { seq: entry.seq, hash: entry.hash };
    return new Promise<AuditEntry>((resolve, reject) => {
      this.#pending.push({ line: `${canonicalJson(entry)}\n`, entry, resolve, reject });
      this.#drain ??= this.#writePending();
    });
  }

  /** Waits for pending appends, then closes the file. Idempotent. */
  close(): Promise<void> {
    this.#isClosed = true;
    this.#closing ??= (async () => {
      await this.#drain;
      await this.#handle.close();
      await this.#anchor?.close();
    })();
    return this.#closing;
  }

  #seal(record: AuditRecord): AuditEntry {
    if (!ACTION.test(record.action))
      throw invalidRequest(`audit action ${JSON.stringify(record.action)} is invalid`);
    if (record.actor.length === 0) throw invalidRequest('audit actor must not be empty');
    if (record.count !== undefined && (!Number.isSafeInteger(record.count) || record.count < 0)) {
      throw invalidRequest('audit count must be a non-negative integer');
    }
    if (record.latencyMs !== undefined && (!Number.isFinite(record.latencyMs) || record.latencyMs < 0)) {
      throw invalidRequest('audit latencyMs must be a non-negative number');
    }
    const body: Omit<AuditEntry, 'hash'> = {
      seq: this.#head.seq + 1,
      ts: new Date(this.#clock()).toISOString(),
      actor: redact(record.actor),
      action: record.action,
      outcome: record.outcome,
      ...(record.reason === undefined ? {} : { reason: redact(record.reason) }),
      ...(record.target === undefined ? {} : { target: redact(record.target) }),
      ...(record.count === undefined ? {} : { count: record.count }),
      ...(record.latencyMs === undefined ? {} : { latencyMs: record.latencyMs }),
      prevHash: this.#head.hash,
    };
    return { ...body, hash: hashAuditEntry(body) };
  }

  /** Group commit: writes everything queued in one write + fsync, until the queue is empty. */
  async #writePending(): Promise<void> {
    for (;;) {
      const batch = this.#pending.splice(0, this.#batchLimit);
      const last = batch.at(-1);
      if (last === undefined) {
        // Cleared in the same synchronous step that saw the empty queue, so no append is stranded.
        this.#drain = undefined;
        return;
      }
      try {
        await this.#handle.appendFile(batch.map((p) => p.line).join(''), 'utf8');
        await this.#handle.sync();
        if (this.#anchor !== undefined) {
          // Only after the lines are durable: an anchor must never claim entries the disk lacks.
          const next = Math.min(Math.max(this.#pending.length, 1), MAX_ANCHOR_NEXT);
          await this.#anchor.write({
            seq: last.entry.seq,
            hash: last.entry.hash,
            ts: new Date(this.#clock()).toISOString(),
            next,
          });
          this.#batchLimit = next;
        }
      } catch (err: unknown) {
        this.#failure = new VaultError(
          VaultErrorCode.STORAGE_FAILED,
          `audit log ${this.path} write failed; refusing further appends: ${String(err)}`,
          { cause: err },
        );
        for (const p of [...batch, ...this.#pending.splice(0)]) p.reject(this.#failure);
        this.#drain = undefined;
        return;
      }
      for (const p of batch) p.resolve(p.entry);
    }
  }
}
