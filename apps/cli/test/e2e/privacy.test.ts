import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AddedMember,
  type CliResult,
  type RuneStack,
  disposeStacks,
  listFiles,
  startStack,
} from './stack-harness.js';

const SENTINEL = `zqxSentinel${randomBytes(6).toString('hex')}`;
/** Spellings a careless log line or index could keep: as typed, and lower-cased by a tokenizer. */
const SPELLINGS = [SENTINEL, SENTINEL.toLowerCase()];

let stack: RuneStack;
let member: AddedMember;
const cliRuns: CliResult[] = [];

function ok(result: CliResult): CliResult {
  expect(result.code, result.stderr).toBe(0);
  cliRuns.push(result);
  return result;
}

beforeAll(async () => {
  stack = await startStack();
  member = await stack.addMember({ role: 'member', name: 'privacy' });
}, 90_000);

afterAll(async () => {
  await disposeStacks();
}, 30_000);

describe('what the services keep and print', () => {
  const recordIds: string[] = [];
  let serviceOutput = { stdout: '', stderr: '' };
  let monitoring = '';

  it('captures three sentinel memories and recalls all of them in plaintext on the client', async () => {
    const captures = await Promise.all(
      ['ledger database', 'retry budget', 'feature flags'].map((topic, i) =>
        stack.rune(
          [
            'capture',
            '--insight',
            `Decision ${i} about the ${topic}: ${SENTINEL} stays the codename`,
            '--context',
            `Context ${i}: ${SENTINEL} was discussed in the ${topic} review`,
            '--title',
            `${SENTINEL} ${topic}`,
            '--json',
          ],
          i === 2 ? { config: member.configPath } : {},
        ),
      ),
    );
    for (const c of captures) recordIds.push((JSON.parse(ok(c).stdout) as { recordId: string }).recordId);

    const recalled = ok(await stack.rune(['recall', `${SENTINEL} codename`, '--k', '10', '--json']));
    const hits = (JSON.parse(recalled.stdout) as { hits: { recordId: string; insight: string }[] }).hits;
    expect(hits.map((h) => h.recordId).sort()).toEqual([...recordIds].sort());
    for (const hit of hits) expect(hit.insight).toContain(SENTINEL);
    ok(await stack.rune(['recall', `${SENTINEL} review`], { config: member.configPath }));

    // Monitoring answers are part of what an operator sees; read them while the stack runs.
    for (const service of ['vault', 'index'] as const) {
      for (const path of ['/metrics', '/status', '/health']) {
        monitoring += (await stack.request(service, { path })).text;
      }
    }
    expect(await stack.stop()).toBe(0);
    serviceOutput = stack.output();
  }, 120_000);

  it('keeps the sentinel out of every file under the data directory', async () => {
    const files = await listFiles(stack.dataDir);
    expect(files.map((f) => relative(stack.dataDir, f))).toEqual(
      expect.arrayContaining(['vault/audit.log', 'vault/vault-state.json', 'admin-config.json']),
    );
    const leaks: string[] = [];
    for (const file of files) {
      const bytes = await readFile(file);
      for (const word of SPELLINGS) {
        if (bytes.includes(Buffer.from(word, 'utf8')) || bytes.includes(Buffer.from(word, 'utf16le'))) {
          leaks.push(`${relative(stack.dataDir, file)} holds "${word}"`);
        }
      }
    }
    expect(leaks).toEqual([]);
  });

  it("keeps the sentinel out of the services' stdout, stderr and monitoring answers", () => {
    expect(serviceOutput.stderr).toMatch(/Rune is up/);
    for (const word of SPELLINGS) {
      expect(serviceOutput.stdout).not.toContain(word);
      expect(serviceOutput.stderr).not.toContain(word);
      expect(monitoring).not.toContain(word);
    }
    for (const id of recordIds) expect(serviceOutput.stderr).not.toContain(id);
  });

  it('keeps member tokens out of every file but the member configs', async () => {
    const tokens = [stack.adminConfig.token, member.token];
    const tokenShape = /rune_(?:inv_)?[A-Za-z0-9_-]{43}/;
    const allowed = new Set(['admin-config.json']);
    const leaks: string[] = [];
    for (const file of await listFiles(stack.dataDir)) {
      if (allowed.has(relative(stack.dataDir, file))) continue;
      const text = (await readFile(file)).toString('latin1');
      if (tokens.some((t) => text.includes(t))) leaks.push(`${relative(stack.dataDir, file)} holds a token`);
      else if (tokenShape.test(text))
        leaks.push(`${relative(stack.dataDir, file)} holds a token-shaped string`);
    }
    expect(leaks).toEqual([]);
    // The allowed files hold exactly their own member's token.
    expect(await readFile(stack.adminConfigPath, 'utf8')).toContain(stack.adminConfig.token);
    expect(await readFile(member.configPath, 'utf8')).toContain(member.token);
    expect(basename(stack.adminConfigPath)).toBe('admin-config.json');

    const printed = [
      serviceOutput.stdout,
      serviceOutput.stderr,
      monitoring,
      ...cliRuns.flatMap((r) => [r.stdout, r.stderr]),
    ];
    for (const text of printed) for (const token of tokens) expect(text).not.toContain(token);
  });
});
