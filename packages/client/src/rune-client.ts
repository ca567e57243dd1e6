import { createEngine, type Engine, type PublicKey } from '@rune/crypto';
import type { Embedder } from '@rune/embed';
import { decodeBase64url, importVerificationKey, type VerificationKey } from '@rune/protocol';
import { captureVector, type CaptureOutcome } from './capture.js';
import type { ClientContext } from './context.js';
import { checkIndexEmbedder, chooseEmbedder } from './embedder-choice.js';
import { RuneClientError } from './errors.js';
import { forgetRecord, type ForgetOutcome } from './forget.js';
import { JsonHttpClient } from './http.js';
import type { MemberConfig } from './member-config.js';
import { fetchPinnedKey } from './pinned-key.js';
import { recallVector, type RecallOptions, type RecallOutcome } from './recall.js';
import { RecordIdPool } from './record-id-pool.js';
import { whoami, type Whoami } from './whoami.js';
import type { RecordPayload, RecordStatus } from './record-payload.js';
import {
  type RefreshOutcome,
  type TermStatsSync,
  type TermStatsSyncOptions,
  termStatsSyncFor,
} from './term-stats-sync.js';

export interface ConnectOptions {
  /** Defaults to the embedder the config names (or the BM25 one when it names none). */
  readonly embedder?: Embedder;
  /** Defaults to createEngine(), made on the first capture. */
  readonly engine?: Engine;
  /** Wall clock, ms since the Unix epoch (record timestamps). */
  readonly clock?: () => number;
  /** Monotonic ms, for step timings. */
  readonly monotonicMs?: () => number;
  /** Per-request deadline for both services (default 30 s). */
  readonly timeoutMs?: number;
  /** Where the team term counts are cached (`stateDir`) and how warnings are logged. */
  readonly termStats?: TermStatsSyncOptions;
}

export interface CaptureInput {
  readonly insight: string;
  readonly context?: string;
  readonly title?: string;
  readonly tags?: readonly string[];
  readonly domain?: string;
  readonly status?: RecordStatus;
  /** Id of the record this one replaces. */
  readonly supersedes?: string;
}

/**
 * A member's typed client of their team's Vault and index: capture, recall and forget, with the
 * Vault's public key pinned. Used by the CLI and the MCP server.
 */
export class RuneClient {
  readonly #ctx: ClientContext;
  /** Present when the embedder's query side needs team-wide term counts. */
  readonly #termStats: TermStatsSync | undefined;
  /** The index's embedder checked against ours, once, before the first capture or recall. */
  #indexChecked: Promise<void> | undefined;

  private constructor(ctx: ClientContext, termStatsOptions?: TermStatsSyncOptions) {
    this.#ctx = ctx;
    this.#termStats = termStatsSyncFor(ctx, termStatsOptions);
  }

  /**
   * Connects: fetches the Vault's published key and refuses it unless it matches the config's
   * pins (KEY_PIN_MISMATCH), then settles the embedder. Nothing is captured or recalled before.
   */
  static async connect(config: MemberConfig, options: ConnectOptions = {}): Promise<RuneClient> {
    const embedder = chooseEmbedder(config, options.embedder);
    const indexKey = importIndexKey(config.indexVerifyKey);
    const tls = {
      ...(config.caCert === undefined ? {} : { caCert: config.caCert }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    };
    const vault = new JsonHttpClient({
      service: 'vault',
      baseUrl: config.vaultUrl,
      token: config.token,
      ...tls,
    });
    // SECURITY: no token for the index; it must never hold a credential of the Vault.
    const index = new JsonHttpClient({ service: 'index', baseUrl: config.indexUrl, ...tls });
    let pinned: { publicKey: PublicKey; vaultVerificationKey: VerificationKey };
    try {
      pinned = await fetchPinnedKey(vault, config);
    } catch (err: unknown) {
      vault.close();
      index.close();
      throw err;
    }
    let engine = options.engine;
    return new RuneClient(
      {
        config,
        vault,
        index,
        publicKey: pinned.publicKey,
        vaultKey: pinned.vaultVerificationKey,
        indexKey,
        engine: () => (engine ??= createEngine()),
        embedder,
        clock: options.clock ?? Date.now,
        monotonicMs: options.monotonicMs ?? (() => performance.now()),
        seenIds: new RecordIdPool(),
      },
      options.termStats,
    );
  }

  get embedder(): Embedder {
    return this.#ctx.embedder;
  }

  get indexId(): string {
    return this.#ctx.config.indexId;
  }

  /** Whether insert receipts are signature-checked (the config pins the index's key). */
  get isReceiptVerified(): boolean {
    return this.#ctx.indexKey !== undefined;
  }

  /** Embeds `insight` as a document and stores it with its optional fields. */
  async capture(input: CaptureInput): Promise<CaptureOutcome> {
    await this.#checkIndexEmbedder();
    const t0 = this.#ctx.monotonicMs();
    const vector = await this.#ctx.embedder.embedDocument(input.insight);
    const embedMs = this.#ctx.monotonicMs() - t0;
    const { memberId, name } = this.#ctx.config;
    const author = memberId ?? name;
    const record: RecordPayload = {
      v: 1,
      insight: input.insight,
      ...(input.context === undefined ? {} : { context: input.context }),
      ...(input.title === undefined ? {} : { title: input.title }),
      ...(input.tags === undefined ? {} : { tags: [...input.tags] }),
      ...(input.domain === undefined ? {} : { domain: input.domain }),
      ...(input.status === undefined ? {} : { status: input.status }),
      ...(input.supersedes === undefined ? {} : { supersedes: input.supersedes }),
      ...(author === undefined ? {} : { author }),
      createdAt: this.#ctx.clock(),
    };
    let permit: Record<string, unknown> | undefined;
    const outcome = await captureVector(this.#ctx, vector, record, embedMs, (p) => (permit = p));
    if (permit !== undefined) await this.#termStats?.publishDocument('capture', permit, input.insight);
    return outcome;
  }

  /** Stores a caller-made vector (normalised here) with its record. */
  captureVector(vector: ArrayLike<number>, record: RecordPayload): Promise<CaptureOutcome> {
    return captureVector(this.#ctx, vector, record);
  }

  /** Embeds `query` and returns up to k memories, best first. */
  async recall(query: string, options: RecallOptions = {}): Promise<RecallOutcome> {
    await this.#checkIndexEmbedder();
    await this.#termStats?.refreshOrWarn();
    const t0 = this.#ctx.monotonicMs();
    const vector = await this.#ctx.embedder.embedQuery(query);
    return recallVector(this.#ctx, vector, options, this.#ctx.monotonicMs() - t0);
  }

  /** Recall with a caller-made query vector (normalised here). */
  recallVector(
    vector: ArrayLike<number>,
    k: number,
    options: Omit<RecallOptions, 'k'> = {},
  ): Promise<RecallOutcome> {
    return recallVector(this.#ctx, vector, { ...options, k });
  }

  /**
   * Forgets a record. With `text` (the insight it was captured with) the team's term counts drop it
   * too; without it they keep counting it (decision 0009).
   */
  async forget(recordId: string, options: { readonly text?: string } = {}): Promise<ForgetOutcome> {
    let permit: Record<string, unknown> | undefined;
    const outcome = await forgetRecord(this.#ctx, recordId, (p) => (permit = p));
    if (permit !== undefined && options.text !== undefined) {
      await this.#termStats?.publishDocument('forget', permit, options.text);
    }
    return outcome;
  }

  /** The member's own identity and role (top-k cap, capabilities), from the Vault. */
  whoami(): Promise<Whoami> {
    return whoami(this.#ctx);
  }

  /** Applies the team's new term-statistics deltas now; undefined when the embedder needs none. */
  refreshTermStats(): Promise<RefreshOutcome | undefined> {
    return this.#termStats?.refresh() ?? Promise.resolve(undefined);
  }

  /** EMBEDDER_MISMATCH unless the index was built with this client's embedder; a failed check is retried. */
  #checkIndexEmbedder(): Promise<void> {
    const { index, config, embedder } = this.#ctx;
    this.#indexChecked ??= checkIndexEmbedder(index, config.indexId, embedder).catch((err: unknown) => {
      this.#indexChecked = undefined;
      throw err;
    });
    return this.#indexChecked;
  }

  /** Closes idle connections; the process can then exit promptly. */
  close(): void {
    this.#termStats?.close();
    this.#ctx.vault.close();
    this.#ctx.index.close();
  }
}

function importIndexKey(text: string | undefined): VerificationKey | undefined {
  if (text === undefined) return undefined;
  try {
    return importVerificationKey(decodeBase64url(text, 'indexVerifyKey'));
  } catch (err: unknown) {
    throw new RuneClientError(
      'CONFIG_INVALID',
      'indexVerifyKey in the member config is not an Ed25519 public key',
      {
        hint: 'copy the index key again from `rune index show-key`, or remove the field',
        cause: err,
      },
    );
  }
}
