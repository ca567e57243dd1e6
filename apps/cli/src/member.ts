import { homedir } from 'node:os';
import {
  type MemberConfig,
  RuneClient,
  chooseEmbedder,
  defaultConfigPath,
  defaultStateDir,
  readMemberConfig,
} from '@rune/client';

export const CONFIG_HELP = `  --config FILE   member config (default: RUNE_CONFIG, else the standard location)`;

/** The member's config and a connected client: the pinned key is checked before anything is sent. */
export async function connectMember(
  configFlag: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<{ client: RuneClient; config: MemberConfig; path: string }> {
  const path = configFlag ?? defaultConfigPath({ env, platform: process.platform, homedir: homedir() });
  const config = await readMemberConfig(path);
  // The embedder the config names (bm25, lexical, a model); RUNE_OFFLINE and API keys come from env.
  const embedder = chooseEmbedder(config, undefined, { env, homedir: homedir() });
  // Team term counts are cached between commands, so a recall fetches only the newest deltas.
  const stateDir = defaultStateDir({ env, platform: process.platform, homedir: homedir() });
  const client = await RuneClient.connect(config, { embedder, termStats: { stateDir } });
  return { client, config, path };
}
