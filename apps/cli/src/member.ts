import { homedir } from 'node:os';
import { type MemberConfig, RuneClient, defaultConfigPath, readMemberConfig } from '@rune/client';
import { createLexicalEmbedder } from '@rune/embed';
import { CliError } from './cli-error.js';

export const CONFIG_HELP = `  --config FILE   member config (default: RUNE_CONFIG, else the standard location)`;

/** The member's config and a connected client: the pinned key is checked before anything is sent. */
export async function connectMember(
  configFlag: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<{ client: RuneClient; config: MemberConfig; path: string }> {
  const path = configFlag ?? defaultConfigPath({ env, platform: process.platform, homedir: homedir() });
  const config = await readMemberConfig(path);
  const dim = config.embedder?.dim ?? 384;
  const embedder = createLexicalEmbedder({ dim });
  if (config.embedder !== undefined && config.embedder.id !== embedder.id) {
    throw new CliError(
      'EMBEDDER_MISMATCH',
      `the index was built with embedder "${config.embedder.id}", this rune has "${embedder.id}"`,
      { hint: 'use the rune version the index was created with' },
    );
  }
  const client = await RuneClient.connect(config, { embedder });
  return { client, config, path };
}
