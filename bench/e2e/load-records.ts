import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MemberConfig } from '@rune/client';
import type { LoadedMessage, LoadRequest } from './load-child.js';

/**
 * Captures vectors [0, count) through `workers` loader processes, each a member client capturing
 * one record at a time, and returns the record id of each vector. In-process loaders would share
 * the services' event loop and thread, so client-side encryption would not overlap anything.
 */
export async function loadRecords(options: {
  readonly config: MemberConfig;
  readonly vectors: Float32Array;
  readonly count: number;
  readonly dim: number;
  readonly workers: number;
  readonly onLoaded?: (done: number, total: number) => void;
}): Promise<string[]> {
  const { config, vectors, count, dim } = options;
  const recordIds: string[] = new Array<string>(count);
  const shares = Math.max(1, Math.min(options.workers, count));
  const children: ChildProcess[] = [];
  const child = fileURLToPath(new URL('./load-child.ts', import.meta.url));
  let done = 0;
  try {
    await Promise.all(
      Array.from({ length: shares }, (_, s) => {
        const first = Math.floor((s * count) / shares);
        const end = Math.floor(((s + 1) * count) / shares);
        return new Promise<void>((resolve, reject) => {
          // The parent's execArgv carries tsx's loader, so the child can run TypeScript too.
          const proc = fork(child, [], { execArgv: process.execArgv, serialization: 'advanced' });
          children.push(proc);
          proc.on('message', (msg: LoadedMessage) => {
            recordIds[msg.index] = msg.recordId;
            options.onLoaded?.(++done, count);
          });
          proc.on('error', reject);
          proc.on('exit', (code) => {
            if (code === 0) resolve();
            else reject(new Error(`loader ${s} exited with code ${code ?? 'null'}`));
          });
          const request: LoadRequest = {
            config,
            first,
            vectors: vectors.slice(first * dim, end * dim),
            count: end - first,
            dim,
          };
          proc.send(request);
        });
      }),
    );
  } finally {
    for (const proc of children) if (proc.exitCode === null) proc.kill();
  }
  return recordIds;
}
