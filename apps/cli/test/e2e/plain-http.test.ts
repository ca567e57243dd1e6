import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RuneStack, disposeStacks, startStack } from './stack-harness.js';

let stack: RuneStack;

beforeAll(async () => {
  stack = await startStack({ plainHttp: true });
}, 90_000);

afterAll(async () => {
  await disposeStacks();
}, 30_000);

describe('a --plain-http stack on loopback', () => {
  it('serves plain HTTP on 127.0.0.1 and hands out a config without a CA', () => {
    expect(stack.vaultUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.indexUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.caCert).toBeUndefined();
  });

  it('captures and recalls through the CLI', async () => {
    const insight = 'Plain loopback stacks are for tests and benchmarks only';
    const captured = await stack.rune(['capture', '--insight', insight, '--json']);
    expect(captured.code, captured.stderr).toBe(0);
    const { recordId } = JSON.parse(captured.stdout) as { recordId: string };
    const recalled = await stack.rune(['recall', 'plain loopback stacks', '--json']);
    expect(recalled.code, recalled.stderr).toBe(0);
    const { hits } = JSON.parse(recalled.stdout) as { hits: { recordId: string; insight: string }[] };
    expect(hits[0]).toMatchObject({ recordId, insight });
  });

  it('redacts secrets before encrypting a CLI capture and filters recall by tag', async () => {
    const secret = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';
    const captured = await stack.rune([
      'capture',
      '--insight',
      `The deploy bot token ${secret} lives in the vault-deploy secret, rotated monthly`,
      '--tag',
      'deploys',
    ]);
    expect(captured.code, captured.stderr).toBe(0);
    expect(captured.stdout).toMatch(/redacted before encryption: 1 /);
    expect(captured.stdout).not.toContain(secret);
    const recalled = await stack.rune(['recall', 'deploy bot token rotation', '--tag', 'deploys', '--json']);
    expect(recalled.code, recalled.stderr).toBe(0);
    const { hits } = JSON.parse(recalled.stdout) as { hits: { insight: string; tags?: string[] }[] };
    expect(hits).toHaveLength(1);
    expect(hits[0]?.insight).toContain('[REDACTED:');
    expect(hits[0]?.insight).not.toContain(secret);
    const none = await stack.rune(['recall', 'deploy bot token rotation', '--tag', 'no-such-tag', '--json']);
    expect((JSON.parse(none.stdout) as { hits: unknown[] }).hits).toEqual([]);
    const bad = await stack.rune(['recall', 'x', '--since', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since must be an ISO date');
  });

  it('answers its health endpoints over plain HTTP', async () => {
    for (const service of ['vault', 'index'] as const) {
      expect((await stack.request(service, { path: '/health/live' })).status).toBe(200);
      expect((await stack.request(service, { path: '/health/ready' })).status).toBe(200);
    }
  });
});
