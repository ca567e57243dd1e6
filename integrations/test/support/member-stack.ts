import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonHttpClient, type MemberConfig, RuneClient, writeMemberConfig } from '@rune/client';
import { type LocalStack, startLocalStack } from '../../../apps/cli/src/stack/local-stack.js';

/** A real local stack (Vault + index over TLS on loopback) and one member with a config file. */
export interface MemberStack {
  readonly stack: LocalStack;
  readonly member: MemberConfig;
  /** The member's config file (mode 0600): what RUNE_CONFIG points at. */
  readonly memberConfigPath: string;
  /** Loopback ports a jailed client must reach (Vault, index). */
  readonly ports: readonly number[];
  /** Stores a memory as the admin (another member of the team), returning its record id. */
  captureAsAdmin(insight: string, context?: string): Promise<string>;
  /** Record ids the admin's recall returns for a query, best first. */
  recallAsAdmin(query: string): Promise<string[]>;
  dispose(): Promise<void>;
}

export async function startMemberStack(): Promise<MemberStack> {
  const root = await mkdtemp(join(tmpdir(), 'rune-int-'));
  const stack = await startLocalStack({
    dataDir: join(root, 'data'),
    vaultPort: 0,
    indexPort: 0,
    threads: 1,
  });
  try {
    const admin = stack.adminConfig;
    const vault = new JsonHttpClient({
      service: 'vault',
      baseUrl: admin.vaultUrl,
      token: admin.token,
      ...(admin.caCert === undefined ? {} : { caCert: admin.caCert }),
    });
    let answer: { member: { id: string }; token: string };
    try {
      answer = (await vault.post('/v1/members', {
        name: 'dana',
        email: 'dana@example.test',
        role: 'member',
      })) as typeof answer;
    } finally {
      vault.close();
    }
    const member: MemberConfig = { ...admin, token: answer.token, memberId: answer.member.id, name: 'dana' };
    const memberConfigPath = join(root, 'dana.json');
    await writeMemberConfig(memberConfigPath, member);
    const ports = [new URL(admin.vaultUrl).port, new URL(admin.indexUrl).port].map(Number);
    return {
      stack,
      member,
      memberConfigPath,
      ports,
      captureAsAdmin: async (insight, context) => {
        const client = await RuneClient.connect(admin);
        try {
          const outcome = await client.capture({ insight, ...(context === undefined ? {} : { context }) });
          return outcome.recordId;
        } finally {
          client.close();
        }
      },
      recallAsAdmin: async (query) => {
        const client = await RuneClient.connect(admin);
        try {
          return (await client.recall(query)).hits.map((h) => h.recordId);
        } finally {
          client.close();
        }
      },
      dispose: async () => {
        await stack.close();
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (err: unknown) {
    await stack.close();
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}
