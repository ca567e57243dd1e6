import { z } from 'zod';
import type { ClientContext } from './context.js';
import { responseInvalid } from './wire.js';

const whoamiSchema = z.object({
  member: z.object({ id: z.string(), name: z.string(), role: z.string() }),
  role: z.object({
    name: z.string(),
    capabilities: z.array(z.string()),
    topKCap: z.int().min(1),
  }),
});

/** The member's own identity and role, as the Vault knows them (`GET /v1/members/me`). */
export interface Whoami {
  readonly memberId: string;
  readonly name: string;
  readonly role: string;
  readonly capabilities: readonly string[];
  /** The most results one recall may ask for; more is refused, never clamped. */
  readonly topKCap: number;
}

export async function whoami(ctx: ClientContext): Promise<Whoami> {
  const parsed = whoamiSchema.safeParse(await ctx.vault.get('/v1/members/me'));
  if (!parsed.success) throw responseInvalid('vault', 'GET /v1/members/me answered an unexpected shape');
  const { member, role } = parsed.data;
  return {
    memberId: member.id,
    name: member.name,
    role: member.role,
    capabilities: role.capabilities,
    topKCap: role.topKCap,
  };
}
