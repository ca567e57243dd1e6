import type { MemberConfig } from '@rune/client';

/**
 * The benchmark's own role: capture and recall with a rate limit a load run cannot hit. The
 * built-in admin role allows 600 requests/min (burst 100), which would pace 10,000 captures at
 * 10/s; the Vault caps a custom role at 100,000/min (burst 10,000).
 */
export const BENCH_ROLE = {
  name: 'bench',
  capabilities: ['capture', 'recall'],
  topKCap: 10,
  rateLimit: { requestsPerMinute: 100_000, burst: 10_000 },
} as const;

/** Defines BENCH_ROLE with the admin's token and returns the config of a new member holding it. */
export async function createBenchMember(admin: MemberConfig): Promise<MemberConfig> {
  await postAsAdmin(admin, '/v1/roles', BENCH_ROLE);
  const body = await postAsAdmin(admin, '/v1/members', {
    name: 'bench',
    email: 'bench@localhost',
    role: BENCH_ROLE.name,
  });
  const { member, token } = body as { member?: { id?: unknown }; token?: unknown };
  if (typeof token !== 'string' || typeof member?.id !== 'string') {
    throw new Error('POST /v1/members answered without a member id and token');
  }
  return { ...admin, token, memberId: member.id, name: 'bench' };
}

async function postAsAdmin(admin: MemberConfig, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${admin.vaultUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as unknown;
}
