import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TEST_INDEX, encryptedVectorBytes, openStore, sealedFor, withTempDir } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const childScript = join(here, 'fixtures', 'crash-child.ts');
const RUNS = 3;

/** Runs the child until `ready`, lets it append for 200–800 ms, SIGKILLs it; returns its acks. */
function runAndKill(dataDir: string, vectorPath: string): Promise<string[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', childScript, dataDir, vectorPath], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (timer === undefined && stdout.startsWith('ready\n')) {
        timer = setTimeout(() => child.kill('SIGKILL'), randomInt(200, 801));
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') {
        reject(new Error(`child ended without being killed: ${stderr}`));
        return;
      }
      const acks = stdout
        .split('\n')
        .filter((line) => line.startsWith('ack '))
        .map((line) => line.slice(4));
      resolvePromise(acks);
    });
  });
}

describe('crash safety', () => {
  it('keeps every acknowledged record intact through repeated kill -9', async () => {
    await withTempDir(async (dir) => {
      const vector = encryptedVectorBytes(3);
      const vectorPath = join(dir, 'vector.bin');
      await writeFile(vectorPath, vector);
      const dataDir = join(dir, 'data');
      const setup = await openStore(dataDir);
      await setup.createIndex(TEST_INDEX);
      await setup.close();

      const acknowledged: string[] = [];
      for (let run = 0; run < RUNS; run++) {
        acknowledged.push(...(await runAndKill(dataDir, vectorPath)));
        const store = await openStore(dataDir);
        const live = new Map<string, Uint8Array>();
        for await (const r of store.liveRecords(TEST_INDEX.id)) live.set(r.recordId, r.vector);
        const damaged: string[] = [];
        for (let from = 0; from < acknowledged.length; from += 1024) {
          const ids = acknowledged.slice(from, from + 1024);
          const sealed = await store.getSealed(TEST_INDEX.id, ids);
          for (const id of ids) {
            const expected = sealedFor(id, 100 + (Number(id.slice(1)) % 37) * 97);
            const isIntact =
              Buffer.from(sealed.get(id) ?? []).equals(expected) &&
              Buffer.from(live.get(id) ?? []).equals(vector);
            if (!isIntact) damaged.push(id);
          }
        }
        expect(damaged).toEqual([]);
        await store.close();
      }
      expect(acknowledged.length).toBeGreaterThan(RUNS);
    });
  }, 30_000);
});
