import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
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
  | { readonly ok: true; readonly entries: number; readonly head: AuditHead }
  | { readonly ok: false; readonly line: number; readonly reason: string; readonly entries: number };

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

/**
 * Verifies a whole audit log. Detects any edited, removed, inserted, reordered or partly
 * truncated line, reporting the first bad line (1-based). Whole lines cut from the end are only
 * detectable against a head recorded elsewhere: pass it as `expectedHead`.
 */
export async function verifyAuditLog(
  path: string,
  options: { expectedHead?: AuditHead } = {},
): Promise<AuditVerification> {
  const verifier = new ChainVerifier();
  let line = 0;
  try {
    for await (const { text, isTerminated } of readLines(path)) {
      line += 1;
      const reason = verifier.check(text, isTerminated);
      if (reason !== undefined) return { ok: false, line, reason, entries: verifier.head.seq };
    }
  } catch (err: unknown) {
    if (typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT') {
      throw new VaultError(VaultErrorCode.NOT_FOUND, `no audit log at ${path}`, { cause: err });
    }
    throw new VaultError(VaultErrorCode.STORAGE_FAILED, `could not read ${path}: ${String(err)}`, {
      cause: err,
    });
  }
  const { expectedHead } = options;
  if (
    expectedHead !== undefined &&
    (verifier.head.seq !== expectedHead.seq || verifier.head.hash !== expectedHead.hash)
  ) {
    return {
      ok: false,
      line: line + 1,
      reason: `log ends at seq ${verifier.head.seq}, expected head seq ${expectedHead.seq} (lines removed from the end?)`,
      entries: verifier.head.seq,
    };
  }
  return { ok: true, entries: verifier.head.seq, head: verifier.head };
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
 */
export class AuditLog {
  readonly path: string;
  readonly #handle: FileHandle;
  readonly #clock: Clock;
  #head: AuditHead;
  #pending: Pending[] = [];
  #drain: Promise<void> | undefined;
  #failure: VaultError | undefined;
  #isClosed = false;
  #closing: Promise<void> | undefined;

  private constructor(path: string, handle: FileHandle, head: AuditHead, clock: Clock) {
    this.path = path;
    this.#handle = handle;
    this.#head = head;
    this.#clock = clock;
  }

  /** Opens (or creates) the log; an existing log must verify, and the chain continues from its head. */
  static async open(path: string, options: { clock?: Clock } = {}): Promise<AuditLog> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    let head: AuditHead = { seq: 0, hash: GENESIS_HASH };
    let isNew = false;
    try {
      const result = await verifyAuditLog(path);
      if (!result.ok) {
        throw new VaultError(
          VaultErrorCode.AUDIT_CHAIN_BROKEN,
          `audit log ${path} fails verification at line ${result.line}: ${result.reason}. ` +
            'Refusing to append; preserve the file for investigation and start a new log.',
          { reason: result.reason },
        );
      }
      head = result.head;
    } catch (err: unknown) {
      if (!(err instanceof VaultError && err.code === VaultErrorCode.NOT_FOUND)) throw err;
      isNew = true;
    }
    const handle = await open(path, 'a', AUDIT_FILE_MODE);
    try {
      await handle.chmod(AUDIT_FILE_MODE);
      if (isNew) {
        // Make the new file's directory entry durable, or a crash could lose the whole log.
        const fd = openSync(dirname(path), 'r');
        try {
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
    } catch (err: unknown) {
      await handle.close();
      throw new VaultError(VaultErrorCode.STORAGE_FAILED, `could not prepare ${path}: ${String(err)}`, {
        cause: err,
      });
    }
    return new AuditLog(path, handle, head, options.clock ?? Date.now);
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
      const batch = this.#pending.splice(0);
      if (batch.length === 0) {
        // Cleared in the same synchronous step that saw the empty queue, so no append is stranded.
        this.#drain = undefined;
        return;
      }
      try {
        await this.#handle.appendFile(batch.map((p) => p.line).join(''), 'utf8');
        await this.#handle.sync();
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
