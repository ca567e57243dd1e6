import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUNE_BIN, runRune } from '../run-rune.js';

const children: ChildProcess[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Starts `rune up` on port 0 and resolves with its JSON line once it is serving. */
function up(dataDir: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; vaultUrl: string }> {
  const child = spawn(
    process.execPath,
    [RUNE_BIN, 'up', '--data-dir', dataDir, '--vault-port', '0', '--index-port', '0'],
    {
      env,
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.includes('"service":"rune-up"'));
      if (line !== undefined)
        resolve({ child, vaultUrl: (JSON.parse(line) as { vaultUrl: string }).vaultUrl });
    });
    child.on('exit', (code) => {
      reject(new Error(`rune up exited with ${String(code)}: ${err}`));
    });
  });
}

function rune(args: readonly string[], env: NodeJS.ProcessEnv) {
  return runRune(args, { env });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

describe('rune up across restarts', () => {
  it('reopens the same keys and memories, and moves its own member config to the new ports', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rune-restart-'));
    dirs.push(root);
    const env = { PATH: process.env.PATH, HOME: root, RUNE_CONFIG: join(root, 'member.json') };
    const dataDir = join(root, 'data');

    const first = await up(dataDir, env);
    const captured = await rune(
      ['capture', '--insight', 'Cache invalidation uses versioned keys in Redis', '--json'],
      env,
    );
    expect(captured.code, captured.stderr).toBe(0);
    const { recordId } = JSON.parse(captured.stdout) as { recordId: string };
    await stop(first.child);

    const second = await up(dataDir, env);
    expect(second.vaultUrl).not.toBe(first.vaultUrl);
    const config = JSON.parse(await readFile(join(root, 'member.json'), 'utf8')) as { vaultUrl: string };
    expect(config.vaultUrl).toBe(second.vaultUrl);
    const recalled = await rune(
      ['recall', 'how do we invalidate the Redis cache?', '--k', '1', '--json'],
      env,
    );
    expect(recalled.code, recalled.stderr).toBe(0);
    expect((JSON.parse(recalled.stdout) as { hits: { recordId: string }[] }).hits[0]?.recordId).toBe(
      recordId,
    );
    await stop(second.child);
  }, 120_000);
});
