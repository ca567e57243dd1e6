import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CryptoError } from '../errors.js';
import type { PreparedQuery } from '../query.js';
import { planBlocksScoring } from '../score.js';
import type { ScoringCall } from '../score.js';
import type { Block } from '../types.js';
import { SCORING_OP_WORDS, SCORING_WORKER_SOURCE, ScoringOp } from './scoring-worker-source.js';
import type { WasmKernels } from './wasm-kernels.js';

interface PendingJob {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface PoolWorker {
  readonly worker: Worker;
  readonly pending: Map<number, PendingJob>;
}

/**
 * Scores blocks in parallel on worker_threads that share the main kernel instance's WebAssembly
 * memory: blocks, prepared queries and outputs are never copied, only a small program of kernel
 * calls (byte offsets) is posted. Blocks are split into contiguous shares, one per worker.
 * A failed or exited worker fails its searches with WORKER_FAILED and is replaced on the next search.
 */
export class ScoringPool {
  private readonly workers: (PoolWorker | undefined)[];
  private nextJobId = 1;
  private closed = false;

  private constructor(
    private readonly kernels: WasmKernels,
    readonly threads: number,
  ) {
    this.workers = new Array<PoolWorker | undefined>(threads).fill(undefined);
  }

  /** `threads` defaults to the number of available cores. */
  static create(kernels: WasmKernels, options: { threads?: number } = {}): ScoringPool {
    if (!kernels.ownsMemory) throw new TypeError('a scoring pool needs the main kernel instance');
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new RangeError(`threads must be an integer in [1, 64], got ${threads}`);
    }
    return new ScoringPool(kernels, threads);
  }

  /** Score `blocks` against `query`, block i into outs[i] (both in kernel memory). */
  async scoreBlocks(
    blocks: readonly Block[],
    query: PreparedQuery,
    outs: readonly Uint32Array[],
  ): Promise<void> {
    if (this.closed) throw new CryptoError('WORKER_FAILED', 'the scoring pool is closed');
    if (outs.length !== blocks.length) throw new RangeError('one output buffer per block is required');
    const shares = Math.min(this.threads, blocks.length);
    const jobs: Promise<void>[] = [];
    for (let w = 0; w < shares; w++) {
      const from = Math.floor((w * blocks.length) / shares);
      const to = Math.floor(((w + 1) * blocks.length) / shares);
      const calls = planBlocksScoring(blocks.slice(from, to), query, outs.slice(from, to));
      jobs.push(this.run(w, this.compile(calls, query.chunks)));
    }
    await Promise.all(jobs);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => (w === undefined ? Promise.resolve(0) : w.worker.terminate())));
    this.workers.fill(undefined);
  }

  private compile(calls: readonly ScoringCall[], chunks: number): Uint32Array<ArrayBuffer> {
    const program = new Uint32Array(calls.length * SCORING_OP_WORDS);
    const at = (a: Uint32Array): number => this.kernels.byteOffsetOf(a);
    calls.forEach((call, i) => {
      const o = i * SCORING_OP_WORDS;
      const tbl = this.kernels.ensureTables(call.t);
      if (call.op === 'macMont2') {
        program.set(
          [ScoringOp.MAC_MONT2, at(call.a), at(call.x), at(call.b), at(call.y), chunks, tbl, at(call.out)],
          o,
        );
      } else if (call.op === 'foldDotPair' || call.op === 'macMontPair') {
        const op = call.op === 'foldDotPair' ? ScoringOp.FOLD_DOT_PAIR : ScoringOp.MAC_MONT_PAIR;
        program.set([op, at(call.a), at(call.b), at(call.x), chunks, tbl, at(call.out), at(call.out2)], o);
      } else {
        const op = call.op === 'foldDot' ? ScoringOp.FOLD_DOT : ScoringOp.MAC_MONT;
        program.set([op, at(call.a), at(call.x), chunks, tbl, at(call.out)], o);
      }
    });
    return program;
  }

  private run(index: number, program: Uint32Array<ArrayBuffer>): Promise<void> {
    const pw = this.workerAt(index);
    const id = this.nextJobId++;
    return new Promise<void>((resolve, reject) => {
      // Keep the process alive only while a job is outstanding.
      if (pw.pending.size === 0) pw.worker.ref();
      pw.pending.set(id, { resolve, reject });
      pw.worker.postMessage({ id, program }, [program.buffer]);
    });
  }

  private workerAt(index: number): PoolWorker {
    const existing = this.workers[index];
    if (existing !== undefined) return existing;
    const worker = new Worker(SCORING_WORKER_SOURCE, {
      eval: true,
      workerData: { module: this.kernels.module, memory: this.kernels.memory },
    });
    // Idle workers must not keep the process alive.
    worker.unref();
    const pending = new Map<number, PendingJob>();
    const pw: PoolWorker = { worker, pending };
    const failAll = (message: string): void => {
      if (this.workers[index] === pw) this.workers[index] = undefined;
      for (const job of pending.values()) job.reject(new CryptoError('WORKER_FAILED', message));
      pending.clear();
    };
    worker.on('message', (msg: { id: number; ok: boolean; message?: string }) => {
      const job = pending.get(msg.id);
      if (job === undefined) return;
      pending.delete(msg.id);
      if (pending.size === 0) worker.unref();
      if (msg.ok) job.resolve();
      else
        job.reject(
          new CryptoError('WORKER_FAILED', `scoring worker failed: ${msg.message ?? 'unknown error'}`),
        );
    });
    worker.on('error', (err: Error) => {
      failAll(`scoring worker crashed: ${err.message}`);
    });
    worker.on('exit', (code) => {
      failAll(`scoring worker exited with code ${code}`);
    });
    this.workers[index] = pw;
    return pw;
  }
}
