import { access, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RuneStack, disposeStacks, startStack } from './e2e/stack-harness.js';

let stack: RuneStack;
let dir: string;

beforeAll(async () => {
  stack = await startStack({ plainHttp: true });
  dir = await mkdtemp(join(tmpdir(), 'rune-import-'));
});

afterAll(async () => {
  await disposeStacks();
  await rm(dir, { recursive: true, force: true });
});

const line = (insight: string, extra: Record<string, unknown> = {}) => JSON.stringify({ insight, ...extra });

describe('rune import / rune export', () => {
  it('imports JSON lines, then exports what recall finds, owner-only, in an importable shape', async () => {
    const file = join(dir, 'decisions.jsonl');
    await writeFile(
      file,
      [
        line('Kafka topics for billing events keep 14 days of retention for replays', {
          tags: ['billing'],
          title: 'retention',
        }),
        '',
        line('The mobile app pins TLS certificates of the API gateway', {
          createdAt: 1_700_000_000_000,
          recordId: 'ignored',
        }),
        line('Feature flags live in LaunchDarkly; never in environment variables', {
          domain: 'flags',
          status: 'accepted',
        }),
      ].join('\n'),
    );
    const imported = await stack.rune(['import', file, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toEqual({ imported: 3, skippedBlank: 1, resumedAfterLine: 0 });
    await expect(access(`${file}.rune-import-state.json`)).rejects.toThrow();
    // Progress goes to a terminal only: none on a pipe.
    expect(imported.stderr).toBe('');

    const out = join(dir, 'export.jsonl');
    const exported = await stack.rune([
      'export',
      '--out',
      out,
      '--query',
      'billing event retention in Kafka',
      '--query',
      'certificate pinning in the mobile app',
      '--json',
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const rows = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { recordId: string; insight: string; createdAt: number; tags?: string[] });
    const pinned = rows.find((r) => r.insight.startsWith('The mobile app pins'));
    expect(pinned?.createdAt).toBe(1_700_000_000_000);
    expect(rows.find((r) => r.insight.startsWith('Kafka'))?.tags).toEqual(['billing']);
    expect(new Set(rows.map((r) => r.recordId)).size).toBe(rows.length);
  });

  it('resumes after the last acknowledged line, and refuses a file whose done lines changed', async () => {
    const file = join(dir, 'resume.jsonl');
    const first = [
      line('Resume test one: the cache TTL is five minutes'),
      line('Resume test two: retries cap at 30 seconds'),
    ];
    await writeFile(
      file,
      [...first, '{"insight": broken', line('Resume test four: logs go to stderr')].join('\n'),
    );
    const failed = await stack.rune(['import', file]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`${file}:3 is not JSON`);
    expect(failed.stderr).toContain('[IMPORT_LINE_INVALID]');
    const state = JSON.parse(await readFile(`${file}.rune-import-state.json`, 'utf8')) as { line: number };
    expect(state.line).toBe(2);

    await writeFile(
      file,
      [...first, line('Resume test three: fixed line'), line('Resume test four: logs go to stderr')].join(
        '\n',
      ),
    );
    const resumed = await stack.rune(['import', file, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toEqual({ imported: 2, skippedBlank: 0, resumedAfterLine: 2 });

    const edited = join(dir, 'edited.jsonl');
    await writeFile(edited, [line('Edited one'), '{bad'].join('\n'));
    expect((await stack.rune(['import', edited])).code).toBe(1);
    await writeFile(edited, [line('Edited ONE changed'), line('Edited two')].join('\n'));
    const refused = await stack.rune(['import', edited]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[IMPORT_STATE_MISMATCH]');
    expect(refused.stderr).toContain('--restart');
    const restarted = await stack.rune(['import', edited, '--restart', '--json']);
    expect(JSON.parse(restarted.stdout)).toMatchObject({ imported: 2, resumedAfterLine: 0 });
  });
});
