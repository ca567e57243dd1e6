import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { writeMemberConfig } from '@rune/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, RUNE_BIN, childEnv, closedPort, tempDir } from './harness.js';

let root: { path: string; remove(): Promise<void> };
let configPath: string;

beforeAll(async () => {
  root = await tempDir('rune-mcp-stdout-');
  configPath = join(root.path, 'vault-config.json');
  // A well-formed config whose services are down: every tool fails, and must fail quietly on stdout.
  await writeMemberConfig(configPath, {
    version: 1,
    vaultUrl: `http://127.0.0.1:${await closedPort()}`,
    indexUrl: `http://127.0.0.1:${await closedPort()}`,
    indexId: 'team',
    token: `rune_${'A'.repeat(43)}`,
    publicKeyHash: '0'.repeat(64),
    vaultKeyId: '0'.repeat(32),
  });
});

afterAll(async () => {
  await root.remove();
});

const REQUESTS = [
  {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
  },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', id: 2, method: 'tools/list' },
  { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'status', arguments: {} } },
  { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'recall', arguments: { query: 'why?' } } },
  { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'capture', arguments: { insight: 42 } } },
  { jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'history', arguments: {} } },
];

describe('rune mcp on stdio', () => {
  it('writes only JSON-RPC to stdout, logs to stderr, and exits when stdin closes', async () => {
    const child = spawn(process.execPath, [RUNE_BIN, 'mcp'], {
      cwd: REPO_ROOT,
      env: childEnv({ RUNE_CONFIG: configPath, XDG_STATE_HOME: join(root.path, 'state') }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    for (const message of REQUESTS) child.stdin.write(`${JSON.stringify(message)}\n`);
    // Every request with an id is answered before stdin closes.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no answers in time; stdout:\n${stdout}\nstderr:\n${stderr}`));
      }, 45_000);
      child.stdout.on('data', () => {
        if (stdout.split('\n').filter((l) => l.trim() !== '').length >= 6) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.stdin.end();
    expect(await exited).toBe(0);

    const lines = stdout.split('\n').filter((l) => l !== '');
    const messages = lines.map(
      (l) => JSON.parse(l) as { jsonrpc: string; id: number; result?: { isError?: boolean } },
    );
    expect(messages.every((m) => m.jsonrpc === '2.0')).toBe(true);
    expect(messages.map((m) => m.id).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const byId = new Map(messages.map((m) => [m.id, m]));
    expect(byId.get(3)?.result?.isError).toBe(true);
    expect(byId.get(4)?.result?.isError).toBe(true);
    expect(byId.get(5)?.result?.isError).toBe(true);
    expect(stderr).toContain('rune mcp:');
  });
});
