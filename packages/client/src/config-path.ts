import { posix, win32 } from 'node:path';

export const CONFIG_FILE_NAME = 'vault-config.json';

export interface ConfigPathContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `process.platform` of the machine the path is for. */
  readonly platform: string;
  /** `os.homedir()`; the fallback when USERPROFILE is unset on Windows. */
  readonly homedir: string;
}

/**
 * Where the member config lives (DESIGN §8): `RUNE_CONFIG` wins; on Windows
 * `%USERPROFILE%\.config\rune\vault-config.json`; elsewhere `$XDG_CONFIG_HOME/rune/…` or
 * `~/.config/rune/…`. Paths are built with the target platform's rules, so tests cover both.
 */
export function defaultConfigPath(context: ConfigPathContext): string {
  const { env, platform, homedir } = context;
  const explicit = env.RUNE_CONFIG;
  if (explicit !== undefined && explicit !== '') return explicit;
  if (platform === 'win32') {
    const profile = env.USERPROFILE;
    const base = profile !== undefined && profile !== '' ? profile : homedir;
    return win32.join(base, '.config', 'rune', CONFIG_FILE_NAME);
  }
  const xdg = env.XDG_CONFIG_HOME;
  // The XDG spec says a relative value is invalid and must be ignored.
  if (xdg !== undefined && posix.isAbsolute(xdg)) return posix.join(xdg, 'rune', CONFIG_FILE_NAME);
  return posix.join(homedir, '.config', 'rune', CONFIG_FILE_NAME);
}

/** A path as written into JSON: forward slashes on every platform, so configs and reports are portable. */
export function toJsonPath(path: string): string {
  return path.replaceAll('\\', '/');
}

/**
 * Where a member's local state lives (term-count caches, the MCP history log): `RUNE_STATE_DIR`
 * wins; on Windows `%LOCALAPPDATA%\rune`; elsewhere `$XDG_STATE_HOME/rune` or `~/.local/state/rune`.
 * State is rebuildable (caches) or the member's own (history), never the config: it may be deleted.
 */
export function defaultStateDir(context: ConfigPathContext): string {
  const { env, platform, homedir } = context;
  const explicit = env.RUNE_STATE_DIR;
  if (explicit !== undefined && explicit !== '') return explicit;
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA;
    return local !== undefined && local !== ''
      ? win32.join(local, 'rune')
      : win32.join(homedir, 'AppData', 'Local', 'rune');
  }
  const xdg = env.XDG_STATE_HOME;
  if (xdg !== undefined && posix.isAbsolute(xdg)) return posix.join(xdg, 'rune');
  return posix.join(homedir, '.local', 'state', 'rune');
}
